"""A conversation's next turn reuses its history's KV from the host tier after other
requests pushed it off the device: only the new tokens are computed, and the answer is
the one a recompute gives."""

import functools
import threading

import pytest
import torch
from engine_support import TINY_CONFIG, tiny_engine

from gpu_backend.engine import SamplingParams
from gpu_backend.kv import bytes_per_block

GREEDY = SamplingParams(max_tokens=24, temperature=0, ignore_eos=True)
BLOCK_BYTES = bytes_per_block(TINY_CONFIG.num_layers, TINY_CONFIG.num_kv_heads, TINY_CONFIG.head_dim, 16,
                              torch.float32)
POOL = 12 * BLOCK_BYTES  # about three requests' worth


@pytest.fixture(scope="module")
def make_engine(smollm2):
    return functools.partial(tiny_engine, smollm2.tokenizer, kv_budget_bytes=POOL)


@pytest.fixture(scope="module")
def encode(smollm2):
    return smollm2.tokenizer.encode


@pytest.fixture(scope="module")
def conversations(encode) -> list[list[int]]:
    return [encode(f"Conversation {i}: tell me about the history of topic number {i * 13}, in some detail, "
                   "with dates, places and the people involved, as a short story.") for i in range(4)]


@pytest.fixture(scope="module")
def pressure(encode) -> list[list[int]]:
    return [encode(f"Unrelated request {i} wants a long answer on subject {i * 31} and nothing else, thanks.")
            for i in range(4)]  # together they need the whole pool


def next_turn(encode, prompt: list[int], answer: list[int], message: str) -> list[int]:
    return prompt + answer + encode(f"\nUser: {message}\nAssistant:")


def run_turns(engine, encode, first_prompts, pressure, salt: str = "") -> list:
    """For each conversation: turn 1, the pressure requests, turn 2. Per conversation: turn 2's
    result, the prefill tokens it computed, its prompt."""
    params = SamplingParams(**{**vars(GREEDY), "cache_salt": salt})
    results = []
    for prompt in first_prompts:
        first = engine.generate([prompt], params)[0]
        engine.generate(pressure, GREEDY)
        follow = next_turn(encode, prompt, first.token_ids, "And what happened next?")
        computed = engine.stats.prefill_tokens
        results.append((engine.generate([follow], params)[0], engine.stats.prefill_tokens - computed, follow))
    return results


def test_the_next_turn_fetches_its_history_from_the_host_and_computes_only_the_new_tokens(
        make_engine, encode, conversations, pressure):
    plain = make_engine(host_prefix_cache=False)
    expected = run_turns(plain, encode, conversations[:1], pressure)
    engine = make_engine(host_prefix_cache=True, host_kv_budget_bytes=64 * BLOCK_BYTES)
    [(second, computed, prompt)] = run_turns(engine, encode, conversations[:1], pressure)
    [(plain_second, plain_computed, _)] = expected
    history = len(conversations[0]) + GREEDY.max_tokens - 1  # turn 1's computed tokens: all but the last
    assert second.num_cached_tokens == history // 16 * 16 > 0
    assert computed == len(prompt) - second.num_cached_tokens
    assert plain_computed == len(prompt) - plain_second.num_cached_tokens > computed  # pushed off: recomputed
    assert second.token_ids == plain_second.token_ids
    stats = engine.host_tier.host_stats
    assert stats.hits == 1 and stats.tokens_reused == second.num_cached_tokens
    assert stats.copies.bytes_in == stats.tokens_reused // 16 * BLOCK_BYTES and stats.copies.seconds_in > 0
    assert stats.nodes_saved > 0 and stats.copies.bytes_out >= stats.copies.bytes_in
    engine.close()


def test_a_full_host_gives_way_lru_and_every_answer_stays_right(make_engine, encode, conversations, pressure):
    expected = [r.token_ids for r, _, _ in run_turns(make_engine(host_prefix_cache=False), encode, conversations,
                                                     pressure)]
    # room on the host for about one conversation's history at a time
    engine = make_engine(host_prefix_cache=True, host_kv_budget_bytes=5 * BLOCK_BYTES)
    results = run_turns(engine, encode, conversations, pressure)
    assert [r.token_ids for r, _, _ in results] == expected
    stats = engine.host_tier.host_stats
    assert stats.blocks_dropped > 0
    # older copies gave way: each history was the newest on the host when its turn 2 came (which pins it)
    assert all(r.num_cached_tokens >= 48 and computed == len(p) - r.num_cached_tokens for r, computed, p in results)
    assert engine.host_tier.host_blocks <= 5
    assert engine.pool.allocator.num_used == engine.block_manager.radix.cached_blocks  # nothing leaked
    engine.close()


def test_another_salt_never_gets_a_conversation_back_from_the_host(make_engine, encode, conversations, pressure):
    engine = make_engine(host_prefix_cache=True, host_kv_budget_bytes=64 * BLOCK_BYTES)
    salted = functools.partial(SamplingParams, max_tokens=24, temperature=0, ignore_eos=True)
    first = engine.generate([conversations[0]], salted(cache_salt="tenant-a"))[0]
    engine.generate(pressure, GREEDY)
    follow = next_turn(encode, conversations[0], first.token_ids, "And what happened next?")
    stats = engine.host_tier.host_stats
    hits = stats.hits
    stranger = engine.generate([follow], salted(cache_salt="tenant-b"))[0]
    assert stranger.num_cached_tokens == 0 and stats.hits == hits
    unsalted = engine.generate([follow], GREEDY)[0]
    assert unsalted.num_cached_tokens == 0 and stats.hits == hits
    engine.generate(pressure, GREEDY)  # the two computed copies go too, to the host or out
    hits = stats.hits
    owner = engine.generate([follow], salted(cache_salt="tenant-a"))[0]
    assert stats.hits == hits + 1
    assert owner.num_cached_tokens >= (len(conversations[0]) + 23) // 16 * 16
    assert owner.token_ids == stranger.token_ids == unsalted.token_ids
    engine.close()


def test_the_host_tier_is_on_with_swap_preemption_and_off_without_a_host_pool(make_engine):
    assert make_engine().host_tier is None and make_engine().host_pool is None
    swapping = make_engine(preemption="swap", host_kv_budget_bytes=8 * BLOCK_BYTES)
    assert swapping.host_tier is not None
    swapping.close()
    only_swap = make_engine(preemption="swap", host_prefix_cache=False, host_kv_budget_bytes=8 * BLOCK_BYTES)
    assert only_swap.host_tier is None and only_swap.host_pool is not None
    only_swap.close()
    with pytest.raises(ValueError, match="host_prefix_cache needs enable_prefix_cache"):
        make_engine(host_prefix_cache=True, enable_prefix_cache=False)


def test_blocks_are_evicted_to_the_host_ahead_of_need_without_waiting_for_the_copies():
    from gpu_backend.engine.block_manager import BlockManager
    from gpu_backend.kv import HostKVPool, KVPool

    pool = KVPool.create(8, num_layers=2, num_kv_heads=2, head_dim=8, block_size=4)
    manager = BlockManager(pool, host_pool=HostKVPool(pool, 16), spill_ahead_blocks=2)
    tokens = list(range(100, 132))  # a finished request's 8 blocks, all cached: the pool is full
    blocks = pool.allocator.allocate(8)
    manager.radix.insert(tokens, blocks)
    pool.allocator.decref(blocks)
    copy_may_run = threading.Event()
    manager.host_tier.host_pool._worker.submit(copy_may_run.wait)  # the copy worker is busy
    manager.poll()  # a step begins: the copy to the host starts, nobody waits for it
    assert manager.host_tier.saving_blocks == 8 and pool.allocator.num_free == 0  # one leaf: all 8 blocks
    manager.poll()  # still on its way: no second eviction
    assert manager.host_tier.host_stats.nodes_saved == 1
    copy_may_run.set()
    manager.host_tier.settle()
    manager.poll()
    assert pool.allocator.num_free == 8 and manager.host_tier.host_blocks == 8
