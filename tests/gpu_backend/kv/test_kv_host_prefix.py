"""The prefix cache's host tier: evicted prefixes wait on the host, come back bit for bit,
are freed on the device only once copied, give way LRU when the host is full, and never
cross salts."""

import threading

import pytest
import torch

from gpu_backend.kv import HostKVPool, KVPool, TieredRadixCache

BLOCK = 4


@pytest.fixture
def pool() -> KVPool:
    pool = KVPool.create(16, num_layers=2, num_kv_heads=2, head_dim=8, block_size=BLOCK)
    generator = torch.Generator().manual_seed(0)
    pool.k_cache.copy_(torch.randn(pool.k_cache.shape, generator=generator))
    pool.v_cache.copy_(torch.randn(pool.v_cache.shape, generator=generator))
    return pool


def tiered(pool: KVPool, host_blocks: int = 16) -> TieredRadixCache:
    return TieredRadixCache(pool.allocator, BLOCK, HostKVPool(pool, host_blocks))


def cache_sequence(cache: TieredRadixCache, tokens: list[int], salt: str = "") -> list[int]:
    """A finished sequence: its blocks allocated, its KV there, cached, its references dropped."""
    blocks = cache.allocator.allocate(len(tokens) // BLOCK)
    cache.insert(tokens, blocks, salt)
    cache.allocator.decref(blocks)
    return blocks


def fetch_all(cache: TieredRadixCache, tokens: list[int], salt: str = "") -> tuple[int, list[int]]:
    """What the engine does for a prompt: device match, then the host continuation copied in."""
    match = cache.match_prefix(tokens, salt)
    found = cache.match_host(tokens, match)
    blocks = cache.allocator.allocate(sum(r.length for r in found.ranges))
    for copy in cache.fetch(found, blocks):
        copy.result()
    cache.insert(tokens, match.blocks + blocks, salt)
    cache.allocator.decref(blocks)
    return found.num_tokens, blocks


def test_an_evicted_prefix_comes_back_from_the_host_bit_for_bit(pool):
    cache = tiered(pool)
    tokens = list(range(100, 124))  # 6 blocks
    blocks = cache_sequence(cache, tokens)
    k_before, v_before = pool.k_cache[:, blocks].clone(), pool.v_cache[:, blocks].clone()
    assert cache.evict(6) == 6
    cache.settle()
    assert pool.allocator.num_free == pool.num_blocks and cache.cached_blocks == 0
    assert cache.host_blocks == 6 and cache.host_stats.nodes_saved == 1
    pool.k_cache.zero_()
    pool.v_cache.zero_()
    assert cache.match_prefix(tokens).num_tokens == 0  # not on the device ...
    reused, fetched = fetch_all(cache, tokens + [1, 2])  # ... but on the host
    assert reused == 24 and cache.host_stats.tokens_reused == 24
    assert torch.equal(pool.k_cache[:, fetched], k_before) and torch.equal(pool.v_cache[:, fetched], v_before)
    # Back on the device, and the host copy kept: evicting again frees at once, copying nothing.
    assert cache.match_prefix(tokens).blocks == fetched
    saves = cache.host_stats.copies.swaps_out
    assert cache.evict(6) == 6 and pool.allocator.num_free == pool.num_blocks
    assert cache.host_stats.copies.swaps_out == saves


def test_only_the_part_past_the_device_prefix_is_fetched(pool):
    cache = tiered(pool)
    system = list(range(100, 108))  # 2 blocks shared by both turns
    cache_sequence(cache, system + list(range(8)))  # system + turn 1 (4 blocks)
    cache_sequence(cache, system + list(range(50, 58)))  # another conversation: the tree splits after system
    cache.evict(2)  # turn 1's own 2 blocks (least recent) go to the host; the system prompt stays
    cache.settle()
    match = cache.match_prefix(system + list(range(8)) + [9, 9, 9, 9])
    found = cache.match_host(system + list(range(8)) + [9, 9, 9, 9], match)
    assert match.num_tokens == 8 and found.num_tokens == 8
    assert [r.length for r in found.ranges] == [2]
    # a prompt that leaves turn 1 after one block takes only that block back
    diverging = system + list(range(4)) + [7, 7, 7, 7]
    assert cache.match_host(diverging, cache.match_prefix(diverging)).num_tokens == 4


def test_evicted_device_blocks_are_not_freed_before_their_copy_to_the_host_is_done(pool):
    cache = tiered(pool)
    tokens = list(range(100, 116))
    blocks = cache_sequence(cache, tokens)
    k_before = pool.k_cache[:, blocks].clone()
    copy_may_run = threading.Event()
    cache.host_pool._worker.submit(copy_may_run.wait)  # the (one) copy worker is busy until set
    free_before = pool.allocator.num_free
    assert cache.evict(4) == 4  # four blocks will come back ...
    cache.poll()
    assert pool.allocator.num_free == free_before  # ... but not while the copy has not run
    assert all(pool.allocator.ref_count(b) == 1 for b in blocks)
    assert cache.saving_blocks == 4
    copy_may_run.set()
    cache.settle()
    assert pool.allocator.num_free == free_before + 4 and cache.saving_blocks == 0
    host = cache.match_host(tokens, cache.match_prefix(tokens)).ranges[0]
    assert torch.equal(cache.host_pool.k_host[:, host.start : host.start + host.length], k_before)


def test_a_full_host_drops_its_least_recently_used_prefix(pool):
    cache = tiered(pool, host_blocks=4)
    old, new = list(range(100, 116)), list(range(200, 216))  # 4 blocks each
    cache_sequence(cache, old)
    cache.evict(4)
    cache.settle()
    cache_sequence(cache, new)
    cache.evict(4)  # the host holds one of them: the older goes
    cache.settle()
    assert cache.match_host(old, cache.match_prefix(old)).num_tokens == 0
    assert cache.match_host(new, cache.match_prefix(new)).num_tokens == 16
    assert cache.host_blocks == 4 and cache.host_stats.blocks_dropped == 4
    assert cache.host_pool.num_free_blocks == 0


def test_without_host_room_an_evicted_prefix_is_dropped_as_without_a_tier(pool):
    cache = tiered(pool, host_blocks=2)
    tokens = list(range(100, 116))  # 4 blocks: more than the whole host pool
    cache_sequence(cache, tokens)
    assert cache.evict(4) == 4 and pool.allocator.num_free == pool.num_blocks  # freed at once, no copy
    assert cache.host_stats.nodes_saved == 0
    assert cache.match_host(tokens, cache.match_prefix(tokens)).num_tokens == 0


def test_a_locked_host_prefix_is_not_dropped_for_room(pool):
    cache = tiered(pool, host_blocks=4)
    first = list(range(100, 116))
    cache_sequence(cache, first)
    cache.evict(4)
    cache.settle()
    found = cache.match_host(first, cache.match_prefix(first))
    cache.lock(found.handle)  # a prompt about to fetch it
    assert cache.reserve_host(4) is None
    cache.unlock(found.handle)
    assert cache.reserve_host(4) is not None


def test_salts_never_share_on_the_host(pool):
    cache = tiered(pool)
    tokens = list(range(100, 116))
    cache_sequence(cache, tokens, salt="tenant-a")
    cache.evict(4)
    cache.settle()
    assert cache.match_host(tokens, cache.match_prefix(tokens, "tenant-b")).num_tokens == 0
    assert cache.match_host(tokens, cache.match_prefix(tokens)).num_tokens == 0
    assert cache.match_host(tokens, cache.match_prefix(tokens, "tenant-a")).num_tokens == 16
