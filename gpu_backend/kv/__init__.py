"""Paged KV storage: block allocator, KV pool tensors, the radix prefix cache and its host tier."""

from gpu_backend.errors import OutOfBlocksError
from gpu_backend.kv.block_allocator import BlockAllocator
from gpu_backend.kv.host_prefix import HostMatch, HostTierStats, TieredRadixCache
from gpu_backend.kv.host_swap import HostKVPool, HostRange, SwapStats
from gpu_backend.kv.kv_pool import KVPool, bytes_per_block
from gpu_backend.kv.radix_cache import CacheStats, InsertResult, PrefixMatch, RadixCache, RadixNode

__all__ = [
    "BlockAllocator",
    "CacheStats",
    "HostKVPool",
    "HostMatch",
    "HostRange",
    "HostTierStats",
    "InsertResult",
    "KVPool",
    "OutOfBlocksError",
    "PrefixMatch",
    "RadixCache",
    "RadixNode",
    "SwapStats",
    "TieredRadixCache",
    "bytes_per_block",
]
