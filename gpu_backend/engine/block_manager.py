"""KV blocks for sequences: allocation from the pool and sharing through the radix cache.

A sequence's block table lists, in order, the blocks holding its tokens' K/V. Its first
blocks may be shared with other sequences (a cached prefix); it writes only into blocks
past its computed full blocks, which nobody else holds. Reference counts (one per
holder: each sequence, and the radix cache) decide when a block is free again.
"""

from gpu_backend.engine.sequence import Sequence
from gpu_backend.kv import KVPool, RadixCache


class BlockManager:
    def __init__(self, pool: KVPool, enable_prefix_cache: bool = True) -> None:
        self.pool = pool
        self.allocator = pool.allocator
        self.block_size = pool.block_size
        self.radix = RadixCache(self.allocator, self.block_size) if enable_prefix_cache else None
        # KVShare's chunk store (gpu_backend/kvshare), when on: evicted after the radix cache.
        self.chunk_store = None

    @property
    def num_free_blocks(self) -> int:
        return self.allocator.num_free

    @property
    def num_reclaimable_blocks(self) -> int:
        """Blocks free now or after evicting unused cached prefixes."""
        return (self.allocator.num_free + (self.radix.evictable_blocks if self.radix else 0)
                + (self.chunk_store.evictable_blocks if self.chunk_store is not None else 0))

    def blocks_for(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def match_cached_prefix(self, seq: Sequence) -> None:
        """On admission: start `seq` from the longest cached prefix of its tokens.

        The last token is always left to compute, since its logits pick the next token.
        """
        seq.num_cached_tokens = 0
        if self.radix is None:
            return
        # Unrecorded: a request that waits for room is matched again every step;
        # `record_admission` counts it once, when it is admitted.
        match = self.radix.match_prefix(seq.token_ids[:-1], seq.params.cache_salt, record=False)
        if match.num_tokens == 0:
            return
        self.allocator.incref(match.blocks)
        self.radix.lock(match.handle)
        seq.block_table = list(match.blocks)
        seq.cache_handle = match.handle
        seq.num_computed_tokens = seq.num_cached_tokens = match.num_tokens

    def record_admission(self, seq: Sequence) -> None:
        """Count an admitted sequence's lookup in the prefix cache's hit statistics."""
        if self.radix is not None:
            stats = self.radix.stats
            stats.queries += 1
            stats.hits += seq.num_cached_tokens > 0
            stats.tokens_asked += seq.num_tokens - 1
            stats.tokens_matched += seq.num_cached_tokens

    def reserve(self, seq: Sequence, num_tokens: int) -> bool:
        """Grow `seq`'s block table to hold `num_tokens` tokens, evicting unused cached
        prefixes if the pool is short. False (nothing taken) if the pool cannot."""
        missing = self.blocks_for(num_tokens) - len(seq.block_table)
        if missing <= 0:
            return True
        shortfall = missing - self.allocator.num_free
        if shortfall > 0 and self.radix is not None:
            self.radix.evict(shortfall)
        shortfall = missing - self.allocator.num_free
        if shortfall > 0 and self.chunk_store is not None:
            self.chunk_store.evict(shortfall)
        blocks = self.allocator.try_allocate(missing)
        if blocks is None:
            return False
        seq.block_table.extend(blocks)
        return True

    def cache_computed_blocks(self, seq: Sequence) -> None:
        """Offer `seq`'s computed full blocks to the prefix cache.

        Where the cache already holds the same tokens (another sequence computed them
        first) `seq` switches to the cached copy and drops its own, so the pool keeps one.
        """
        if self.radix is None:
            return
        computed = seq.num_computed_tokens if seq.num_exact_tokens is None else min(
            seq.num_computed_tokens, seq.num_exact_tokens)
        num_full = computed // self.block_size
        if num_full == 0:
            return
        result = self.radix.insert(
            seq.token_ids[: num_full * self.block_size], seq.block_table[:num_full], seq.params.cache_salt
        )
        for index, (mine, cached) in enumerate(zip(seq.block_table, result.blocks)):
            if mine != cached:
                self.allocator.incref([cached])
                self.allocator.decref([mine])
                seq.block_table[index] = cached
        self.radix.lock(result.handle)
        if seq.cache_handle is not None:
            self.radix.unlock(seq.cache_handle)
        seq.cache_handle = result.handle

    def release(self, seq: Sequence) -> None:
        """Give back every block of `seq`, after caching its computed full blocks."""
        self.cache_computed_blocks(seq)
        if seq.cache_handle is not None:
            self.radix.unlock(seq.cache_handle)
            seq.cache_handle = None
        self.allocator.decref(seq.block_table)
        seq.block_table = []
