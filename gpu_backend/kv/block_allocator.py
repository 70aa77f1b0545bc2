"""Free list of KV blocks with per-block reference counts.

A block is owned by everyone holding a reference to it: each running sequence that
has it in its block table, and the radix cache while the block is cached. It goes
back to the free list when the last reference is dropped.
"""

from collections import deque
from collections.abc import Iterable

from gpu_backend.errors import InvalidConfig, KVStateError, OutOfBlocksError


class BlockAllocator:
    def __init__(self, num_blocks: int) -> None:
        if num_blocks <= 0:
            raise InvalidConfig(f"num_blocks must be positive, got {num_blocks}")
        self.num_blocks = num_blocks
        self._free: deque[int] = deque(range(num_blocks))
        self._ref_counts = [0] * num_blocks

    @property
    def num_free(self) -> int:
        return len(self._free)

    @property
    def num_used(self) -> int:
        return self.num_blocks - len(self._free)

    def can_allocate(self, n: int) -> bool:
        return n <= len(self._free)

    def try_allocate(self, n: int) -> list[int] | None:
        """`n` fresh blocks, each with reference count 1, or None (nothing taken) if fewer are free."""
        if n < 0:
            raise KVStateError(f"cannot allocate {n} blocks")
        if n > len(self._free):
            return None
        blocks = [self._free.popleft() for _ in range(n)]
        for block in blocks:
            self._ref_counts[block] = 1
        return blocks

    def allocate(self, n: int) -> list[int]:
        """Like `try_allocate`, but raises `OutOfBlocksError` when not enough blocks are free."""
        blocks = self.try_allocate(n)
        if blocks is None:
            raise OutOfBlocksError(f"asked for {n} KV blocks but only {len(self._free)} of {self.num_blocks} are free")
        return blocks

    def ref_count(self, block: int) -> int:
        return self._ref_counts[block]

    def incref(self, blocks: Iterable[int]) -> None:
        """Add one reference to each (already allocated) block, e.g. a cached prefix a sequence reuses."""
        for block in blocks:
            if self._ref_counts[block] <= 0:
                raise KVStateError(f"incref of free block {block}")
            self._ref_counts[block] += 1

    def decref(self, blocks: Iterable[int]) -> list[int]:
        """Drop one reference from each block; returns the blocks that became free."""
        freed = []
        for block in blocks:
            count = self._ref_counts[block]
            if count <= 0:
                raise KVStateError(f"decref of free block {block}")
            self._ref_counts[block] = count - 1
            if count == 1:
                self._free.append(block)
                freed.append(block)
        return freed

    def free(self, blocks: Iterable[int]) -> list[int]:
        """Alias of `decref`: a sequence giving back its blocks."""
        return self.decref(blocks)
