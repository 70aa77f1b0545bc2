"""The prefix cache turned off (enable_prefix_cache=False): nothing is cached, every lookup
misses, nothing is evicted. The block manager uses it as it uses a RadixCache."""

from collections.abc import Sequence

from gpu_backend.kv.radix_cache import CacheStats, InsertResult, PrefixMatch, RadixNode


class NoPrefixCache:
    cached_blocks = 0
    evictable_blocks = 0

    def __init__(self) -> None:
        self.stats = CacheStats()  # lookups are counted; none ever matches
        self._root = RadixNode((), [], None)

    def match_prefix(self, tokens: Sequence[int], salt: str = "", record: bool = True) -> PrefixMatch:
        return PrefixMatch([], 0, self._root)

    def insert(self, tokens: Sequence[int], blocks: Sequence[int], salt: str = "") -> InsertResult:
        """Nothing is kept: the caller's blocks stay its own."""
        return InsertResult(list(blocks), 0, [], self._root)

    def lock(self, handle: RadixNode) -> None:
        pass

    def unlock(self, handle: RadixNode) -> None:
        pass

    def evict(self, num_blocks: int) -> int:
        return 0
