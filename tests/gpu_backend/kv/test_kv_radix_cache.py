import random

import pytest

from gpu_backend.kv import BlockAllocator, RadixCache

BLOCK = 4


@pytest.fixture
def allocator():
    return BlockAllocator(32)


@pytest.fixture
def cache(allocator):
    return RadixCache(allocator, BLOCK)


def run_sequence(cache, allocator, tokens, salt=""):
    """What the engine does: reuse the cached prefix, allocate the rest, cache, finish."""
    match = cache.match_prefix(tokens, salt)
    cache.lock(match.handle)
    allocator.incref(match.blocks)
    fresh = allocator.allocate(-(-len(tokens) // BLOCK) - len(match.blocks))
    blocks = match.blocks + fresh
    result = cache.insert(tokens, blocks, salt)
    cache.unlock(match.handle)
    allocator.decref(blocks)
    return match, result, blocks


def test_second_request_hits_the_shared_prefix(cache, allocator):
    system = list(range(100, 112))  # 3 full blocks
    _, _, first_blocks = run_sequence(cache, allocator, system + [1, 2, 3, 4, 5])
    match = cache.match_prefix(system + [9, 9, 9, 9, 9])
    assert match.num_tokens == 12
    assert match.blocks == first_blocks[:3]
    assert cache.stats.tokens_matched == 12


def test_partial_tail_block_is_not_cached(cache, allocator):
    tokens = list(range(10))  # 2 full blocks + 2 tokens
    _, result, blocks = run_sequence(cache, allocator, tokens)
    assert result.num_tokens == 8 and result.blocks == blocks[:2]
    assert cache.cached_blocks == 2
    assert allocator.ref_count(blocks[2]) == 0  # the tail went back to the free list
    assert cache.match_prefix(tokens).num_tokens == 8


def test_duplicate_insert_keeps_tree_blocks_and_reports_callers(cache, allocator):
    tokens = list(range(12))
    a = allocator.allocate(3)
    cache.insert(tokens, a)
    b = allocator.allocate(3)
    result = cache.insert(tokens + [50, 51, 52, 53], b + allocator.allocate(1))
    assert result.duplicate_blocks == b
    assert result.blocks[:3] == a and len(result.blocks) == 4
    assert cache.cached_blocks == 4
    allocator.decref(result.duplicate_blocks)
    assert all(allocator.ref_count(x) == 0 for x in b)
    assert all(allocator.ref_count(x) == 2 for x in a)  # caller + tree


def test_match_splits_inside_a_node_at_block_boundary(cache, allocator):
    tokens = list(range(16))
    cache.insert(tokens, allocator.allocate(4))
    diverging = tokens[:9] + [77] * 7  # agrees for 2 full blocks and one token
    match = cache.match_prefix(diverging)
    assert match.num_tokens == 8 and len(match.blocks) == 2
    assert cache.match_prefix(tokens).num_tokens == 16


def test_salts_never_share_nodes_and_empty_salt_is_shared(cache, allocator):
    tokens = list(range(8))
    run_sequence(cache, allocator, tokens, salt="tenant-a")
    assert cache.match_prefix(tokens, salt="tenant-b").num_tokens == 0
    assert cache.match_prefix(tokens, salt="").num_tokens == 0
    assert cache.match_prefix(tokens, salt="tenant-a").num_tokens == 8
    run_sequence(cache, allocator, tokens)
    assert cache.match_prefix(tokens).num_tokens == 8


def test_lock_prevents_eviction_until_unlocked(cache, allocator):
    tokens = list(range(8))
    run_sequence(cache, allocator, tokens)
    match = cache.match_prefix(tokens)
    cache.lock(match.handle)
    assert cache.evictable_blocks == 0 and cache.protected_blocks == 2
    assert cache.evict(10) == 0
    assert cache.match_prefix(tokens).num_tokens == 8
    cache.unlock(match.handle)
    assert cache.evict(10) == 2
    assert allocator.num_free == 32 and cache.cached_blocks == 0
    with pytest.raises(ValueError):
        cache.unlock(match.handle)


def test_eviction_takes_least_recently_used_leaves_first(cache, allocator):
    old, recent, fresh = ([k] * 8 for k in (1, 2, 3))
    for tokens in (old, recent, fresh):
        run_sequence(cache, allocator, tokens)
    cache.match_prefix(old)  # a hit makes `old` the most recently used
    assert cache.evict(2) == 2
    assert cache.match_prefix(recent).num_tokens == 0
    assert cache.match_prefix(old).num_tokens == 8
    assert cache.match_prefix(fresh).num_tokens == 8


def test_eviction_goes_up_from_leaves_and_keeps_shared_parent(cache, allocator):
    shared = list(range(8))
    run_sequence(cache, allocator, shared + [1] * 4)
    run_sequence(cache, allocator, shared + [2] * 4)
    assert cache.cached_blocks == 4
    cache.match_prefix(shared + [2] * 4)
    assert cache.evict(1) == 1
    assert cache.match_prefix(shared + [1] * 4).num_tokens == 8
    assert cache.match_prefix(shared + [2] * 4).num_tokens == 12
    assert cache.evict(100) == 3
    assert allocator.num_free == 32


def test_hit_statistics_count_tokens_and_skip_probes(cache, allocator):
    run_sequence(cache, allocator, list(range(8)))  # a miss of 8 tokens
    cache.match_prefix(list(range(8)) + [0, 0, 0, 0])
    cache.match_prefix(list(range(8)), record=False)
    assert cache.stats.queries == 2 and cache.stats.hits == 1
    assert cache.stats.tokens_asked == 20 and cache.stats.tokens_matched == 8
    assert cache.stats.token_hit_rate == pytest.approx(0.4)


def test_random_engine_traffic_keeps_blocks_consistent():
    """Many overlapping sequences start and finish under memory pressure: every match
    returns blocks that hold exactly that prefix, and no block leaks or is freed early."""
    rng = random.Random(0)
    allocator = BlockAllocator(24)
    cache = RadixCache(allocator, BLOCK)
    content = {}  # block -> (salt, token prefix whose K/V it holds)
    running = []
    for _ in range(400):
        if running and (rng.random() < 0.4 or len(running) > 4):
            tokens, salt, blocks, handle = running.pop(rng.randrange(len(running)))
            cache.insert(tokens, blocks, salt)
            cache.unlock(handle)
            allocator.decref(blocks)
            continue
        salt = rng.choice(["", "tenant"])
        tokens = [rng.randrange(2) for _ in range(rng.randrange(1, 20))]
        match = cache.match_prefix(tokens, salt)
        for i, block in enumerate(match.blocks):
            assert content[block] == (salt, tuple(tokens[: (i + 1) * BLOCK]))
        needed = -(-len(tokens) // BLOCK) - len(match.blocks)
        cache.lock(match.handle)
        if not allocator.can_allocate(needed):
            cache.evict(needed - allocator.num_free)
        fresh = allocator.try_allocate(needed)
        if fresh is None:
            cache.unlock(match.handle)
            continue
        allocator.incref(match.blocks)
        blocks = match.blocks + fresh
        for i, block in enumerate(fresh, start=len(match.blocks)):
            content[block] = (salt, tuple(tokens[: (i + 1) * BLOCK]))
        running.append((tokens, salt, blocks, match.handle))
        held = sum(len(seq[2]) for seq in running)
        assert sum(allocator.ref_count(b) for b in range(24)) == held + cache.cached_blocks
    for tokens, salt, blocks, handle in running:
        cache.unlock(handle)
        allocator.decref(blocks)
    assert cache.evictable_blocks == cache.cached_blocks
    cache.evict(24)
    assert allocator.num_free == 24 and cache.cached_blocks == 0
