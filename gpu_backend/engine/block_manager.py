"""KV blocks for sequences: allocation from the pool and sharing through the radix cache.

A sequence's block table lists, in order, the blocks holding its tokens' K/V. Its first
blocks may be shared with other sequences (a cached prefix); it writes only into blocks
past its computed full blocks, which nobody else holds. Reference counts (one per
holder: each sequence, and the radix cache) decide when a block is free again.

With a host pool the prefix cache has a host tier (kv/host_prefix.py): a prompt whose
cached prefix runs on into prefixes evicted to the host gets blocks for them on admission
and waits (`host_fetch_ready`) while they are copied back, then computes only the rest.
Evicting to the host copies first; to keep that copy off the critical path, `poll` (each
step) starts evicting while fewer than `spill_ahead_blocks` blocks are free, so the copies
overlap the step and the next one finds its blocks free.
"""

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from gpu_backend.engine.sequence import Sequence
from gpu_backend.errors import KVStateError
from gpu_backend.kv import HostKVPool, HostMatch, KVPool, RadixCache, TieredRadixCache
from gpu_backend.kv.no_prefix_cache import NoPrefixCache


@dataclass
class HostFetch:
    """A sequence's cached prefix that continues on the host (`seq.host_fetch`)."""

    found: HostMatch
    num_tokens: int  # the sequence's computed tokens once the copies are in
    copies: list[Future] | None = None  # None: planned at the match, not started


class EvictableStore(Protocol):
    """Another holder of pool blocks that gives them up when the pool is short (KVShare's chunk store)."""

    @property
    def evictable_blocks(self) -> int: ...

    def evict(self, num_blocks: int) -> int: ...


class NoChunkStore:
    """KVShare off: no chunk holds blocks."""

    evictable_blocks = 0

    def evict(self, num_blocks: int) -> int:
        return 0


class BlockManager:
    def __init__(
        self,
        pool: KVPool,
        enable_prefix_cache: bool = True,
        host_pool: HostKVPool | None = None,
        spill_ahead_blocks: int = 0,
        chunk_store: EvictableStore = NoChunkStore(),
    ) -> None:
        """`host_pool`: keep prefixes evicted from the device there (needs the prefix cache).
        `spill_ahead_blocks`: free blocks `poll` keeps in hand by evicting to the host tier ahead
        of need (0: off). `chunk_store`: evicted after the radix cache."""
        self.pool = pool
        self.allocator = pool.allocator
        self.block_size = pool.block_size
        self.radix: RadixCache | NoPrefixCache = NoPrefixCache()
        self.host_tier: TieredRadixCache | None = None
        if enable_prefix_cache and host_pool is not None:
            self.radix = self.host_tier = TieredRadixCache(self.allocator, self.block_size, host_pool)
        elif enable_prefix_cache:
            self.radix = RadixCache(self.allocator, self.block_size)
        self.spill_ahead_blocks = spill_ahead_blocks
        self.chunk_store = chunk_store

    @property
    def num_free_blocks(self) -> int:
        return self.allocator.num_free

    @property
    def num_reclaimable_blocks(self) -> int:
        """Blocks free now or after evicting unused cached prefixes."""
        return (
            self.allocator.num_free
            + self.radix.evictable_blocks
            + (self.host_tier.saving_blocks if self.host_tier is not None else 0)
            + self.chunk_store.evictable_blocks
        )

    def blocks_for(self, num_tokens: int) -> int:
        return -(-num_tokens // self.block_size)

    def match_cached_prefix(self, seq: Sequence) -> None:
        """On admission: start `seq` from the longest cached prefix of its tokens.

        The last token is always left to compute, since its logits pick the next token.
        Where the prefix continues on the host tier, `seq.host_fetch` plans to fetch it
        (locked against dropping; `begin_host_fetch` starts it once blocks are reserved).
        """
        seq.num_cached_tokens = 0
        # Unrecorded: a request that waits for room is matched again every step;
        # `record_admission` counts it once, when it is admitted.
        tokens = seq.token_ids[:-1]
        match = self.radix.match_prefix(tokens, seq.params.cache_salt, record=False)
        handle = match.handle
        if self.host_tier is not None and seq.swapped is None:  # a swapped sequence brings its own KV
            found = self.host_tier.match_host(tokens, match)
            if found.num_tokens:
                seq.host_fetch = HostFetch(found, match.num_tokens + found.num_tokens)
                handle = found.handle
        if handle.is_root:
            return
        self.allocator.incref(match.blocks)
        self.radix.lock(handle)
        seq.block_table = list(match.blocks)
        seq.cache_handle = handle
        seq.num_computed_tokens = seq.num_cached_tokens = match.num_tokens

    def begin_host_fetch(self, seq: Sequence) -> None:
        """After `reserve` gave `seq` blocks for `seq.host_fetch.num_tokens` tokens: copy the
        host part of its prefix into them."""
        fetch = seq.host_fetch
        if fetch is None or self.host_tier is None:
            raise KVStateError(f"sequence {seq.seq_id} has no host prefix to fetch")
        first, end = seq.num_computed_tokens // self.block_size, fetch.num_tokens // self.block_size
        fetch.copies = self.host_tier.fetch(fetch.found, seq.block_table[first:end])

    def host_fetch_ready(self, seq: Sequence, wait: bool = False) -> bool:
        """Whether `seq`'s KV is all on the device: no fetch, or its copies are done (or, with
        `wait`, once they are), which counts the fetched tokens as computed and cached."""
        fetch = seq.host_fetch
        if fetch is None:
            return True
        if fetch.copies is None:  # planned but not started: nothing to wait for
            seq.host_fetch = None
            return True
        if not wait and not all(copy.done() for copy in fetch.copies):
            return False
        for copy in fetch.copies:
            copy.result()
        seq.host_fetch = None
        seq.num_computed_tokens = seq.num_cached_tokens = fetch.num_tokens
        self.cache_computed_blocks(seq)  # the fetched nodes are on the device again
        return True

    def poll(self) -> None:
        """Free device blocks whose copy to the host tier has finished, and start evicting to
        it while fewer than `spill_ahead_blocks` blocks are free or on their way."""
        if self.host_tier is None:
            return
        self.host_tier.poll()
        short = self.spill_ahead_blocks - self.allocator.num_free - self.host_tier.saving_blocks
        if short > 0 and self.host_tier.evictable_blocks:  # else `evict` would walk the tree for nothing
            self.host_tier.evict(short)

    def record_admission(self, seq: Sequence) -> None:
        """Count an admitted sequence's lookup in the prefix cache's hit statistics."""
        stats = self.radix.stats
        stats.queries += 1
        stats.hits += seq.num_cached_tokens > 0
        stats.tokens_asked += seq.num_tokens - 1
        stats.tokens_matched += seq.num_cached_tokens

    def stats(self) -> dict[str, float]:
        """The pool's use, the prefix cache's and, when on, its host tier's counters (for /metrics)."""
        out: dict[str, float] = {
            "kv_usage_ratio": self.pool.usage,
            "kv_blocks_total": self.pool.num_blocks,
            "kv_cached_blocks": self.radix.cached_blocks,
            "prefix_cache_hit_rate": self.radix.stats.token_hit_rate,
        }
        if self.host_tier is not None:
            host, copies = self.host_tier.host_stats, self.host_tier.host_stats.copies
            out |= {
                "host_tier_blocks": self.host_tier.host_blocks,
                "host_tier_hits": host.hits,
                "host_tier_tokens_reused": host.tokens_reused,
                "host_tier_blocks_saved": host.blocks_saved,
                "host_tier_blocks_dropped": host.blocks_dropped,
                "host_tier_bytes_out": copies.bytes_out,
                "host_tier_bytes_in": copies.bytes_in,
                "host_tier_copy_seconds_out": copies.seconds_out,
                "host_tier_copy_seconds_in": copies.seconds_in,
            }
        return out

    def reserve(self, seq: Sequence, num_tokens: int) -> bool:
        """Grow `seq`'s block table to hold `num_tokens` tokens, evicting unused cached
        prefixes if the pool is short. False (nothing taken) if the pool cannot."""
        missing = self.blocks_for(num_tokens) - len(seq.block_table)
        if missing <= 0:
            return True
        shortfall = missing - self.allocator.num_free
        if shortfall > 0:
            self.radix.evict(shortfall)
            if self.host_tier is not None and self.allocator.num_free < missing:
                self.host_tier.settle()  # the evicted blocks are free once their copies to the host are
        shortfall = missing - self.allocator.num_free
        if shortfall > 0:
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
        computed = (
            seq.num_computed_tokens
            if seq.num_exact_tokens is None
            else min(seq.num_computed_tokens, seq.num_exact_tokens)
        )
        num_full = computed // self.block_size
        if num_full == 0:
            return
        result = self.radix.insert(
            seq.token_ids[: num_full * self.block_size], seq.block_table[:num_full], seq.params.cache_salt
        )
        for index, (mine, cached) in enumerate(zip(seq.block_table, result.blocks, strict=False)):
            if mine != cached:
                self.allocator.incref([cached])
                self.allocator.decref([mine])
                seq.block_table[index] = cached
        self.radix.lock(result.handle)
        if seq.cache_handle is not None:
            self.radix.unlock(seq.cache_handle)
        seq.cache_handle = result.handle

    def release(self, seq: Sequence) -> None:
        """Give back every block of `seq`, after caching its computed full blocks (a fetch
        from the host in flight is waited for: its copies write into these blocks)."""
        self.host_fetch_ready(seq, wait=True)
        self.cache_computed_blocks(seq)
        if seq.cache_handle is not None:
            self.radix.unlock(seq.cache_handle)
            seq.cache_handle = None
        self.allocator.decref(seq.block_table)
        seq.block_table = []
