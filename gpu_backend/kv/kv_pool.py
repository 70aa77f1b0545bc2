"""The paged KV storage shared by every layer, sequence and phase worker.

k_cache, v_cache: [num_layers, num_blocks, block_size, num_kv_heads, head_dim].
A layer's view is k_cache[layer] -> [num_blocks, block_size, Hkv, D];
slot of a token = block_id * block_size + offset within the block.
"""

from dataclasses import dataclass, field

import torch

from gpu_backend.errors import InvalidConfig
from gpu_backend.kv.block_allocator import BlockAllocator


def bytes_per_block(num_layers: int, num_kv_heads: int, head_dim: int, block_size: int, dtype: torch.dtype) -> int:
    """Bytes one block takes across all layers, K and V together."""
    element_size = torch.empty((), dtype=dtype).element_size()
    return 2 * num_layers * block_size * num_kv_heads * head_dim * element_size


@dataclass
class KVPool:
    k_cache: torch.Tensor
    v_cache: torch.Tensor
    allocator: BlockAllocator = field(init=False)

    def __post_init__(self) -> None:
        if self.k_cache.shape != self.v_cache.shape or self.k_cache.dim() != 5:
            raise InvalidConfig(
                "k_cache and v_cache must both be [num_layers, num_blocks, block_size, Hkv, D], "
                f"got {tuple(self.k_cache.shape)} and {tuple(self.v_cache.shape)}"
            )
        self.allocator = BlockAllocator(self.num_blocks)

    @classmethod
    def create(
        cls,
        num_blocks: int,
        num_layers: int,
        num_kv_heads: int,
        head_dim: int,
        block_size: int,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
    ) -> "KVPool":
        shape = (num_layers, num_blocks, block_size, num_kv_heads, head_dim)
        # zeros, not empty: padded block-table entries point at block 0 and are masked,
        # but NaN garbage there would still poison 0 * NaN in some matmul paths.
        return cls(
            torch.zeros(shape, dtype=dtype, device=device),
            torch.zeros(shape, dtype=dtype, device=device),
        )

    @classmethod
    def from_budget(
        cls,
        budget_bytes: int,
        num_layers: int,
        num_kv_heads: int,
        head_dim: int,
        block_size: int,
        dtype: torch.dtype = torch.float32,
        device: str | torch.device = "cpu",
    ) -> "KVPool":
        """As many blocks as fit in `budget_bytes` (K and V of all layers); at least one must fit."""
        per_block = bytes_per_block(num_layers, num_kv_heads, head_dim, block_size, dtype)
        num_blocks = budget_bytes // per_block
        if num_blocks < 1:
            raise InvalidConfig(f"KV budget of {budget_bytes} bytes holds no block ({per_block} bytes per block)")
        return cls.create(num_blocks, num_layers, num_kv_heads, head_dim, block_size, dtype, device)

    @property
    def num_layers(self) -> int:
        return self.k_cache.shape[0]

    @property
    def num_blocks(self) -> int:
        return self.k_cache.shape[1]

    @property
    def block_size(self) -> int:
        return self.k_cache.shape[2]

    @property
    def num_kv_heads(self) -> int:
        return self.k_cache.shape[3]

    @property
    def head_dim(self) -> int:
        return self.k_cache.shape[4]

    @property
    def bytes_per_block(self) -> int:
        return bytes_per_block(self.num_layers, self.num_kv_heads, self.head_dim, self.block_size, self.k_cache.dtype)

    @property
    def total_bytes(self) -> int:
        return self.num_blocks * self.bytes_per_block

    @property
    def usage(self) -> float:
        """Fraction of blocks currently allocated (cached prefixes included)."""
        return self.allocator.num_used / self.num_blocks

    def layer(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(k, v) views of one layer: [num_blocks, block_size, Hkv, D] each."""
        return self.k_cache[index], self.v_cache[index]
