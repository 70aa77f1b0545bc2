"""Back-pressure: when the KV pool runs out, sequences are preempted (their KV recomputed, or
swapped to the host pool and back), and every request still completes with the tokens it would
have had anyway."""

import functools

import pytest
import torch
from engine_support import TINY_CONFIG, tiny_engine

from gpu_backend.engine import FinishReason, SamplingParams
from gpu_backend.kv import bytes_per_block

GREEDY = SamplingParams(max_tokens=24, temperature=0, ignore_eos=True)
BLOCK_BYTES = bytes_per_block(TINY_CONFIG.num_layers, TINY_CONFIG.num_kv_heads, TINY_CONFIG.head_dim, 16,
                              torch.float32)


@pytest.fixture(scope="module")
def make_engine(smollm2):
    return functools.partial(tiny_engine, smollm2.tokenizer)


@pytest.fixture(scope="module")
def prompts(smollm2) -> list[list[int]]:
    return [smollm2.tokenizer.encode(f"Request number {i} asks about topic {i * 7} in some detail, please.")
            for i in range(6)]


@pytest.fixture(scope="module")
def expected(make_engine, prompts):
    return [r.token_ids for r in make_engine(enable_prefix_cache=False).generate(prompts, GREEDY)]


@pytest.mark.parametrize("prefix_cache", [True, False])
def test_pool_exhaustion_preempts_and_every_request_completes_correctly(make_engine, prompts, expected, prefix_cache):
    # Each request needs 3 blocks at the end; 8 blocks hold fewer than three of them.
    engine = make_engine(kv_budget_bytes=8 * BLOCK_BYTES, enable_prefix_cache=prefix_cache)
    results = engine.generate(prompts, GREEDY)
    assert engine.scheduler.num_preemptions > 0
    assert sum(r.num_preemptions for r in results) == engine.scheduler.num_preemptions
    assert [r.token_ids for r in results] == expected
    assert all(r.finish_reason is FinishReason.LENGTH for r in results)
    cached = engine.block_manager.radix.cached_blocks if prefix_cache else 0
    assert engine.pool.allocator.num_used == cached


def test_sequences_are_capped_at_what_the_pool_holds(make_engine, prompts):
    engine = make_engine(kv_budget_bytes=4 * BLOCK_BYTES)
    assert engine.max_model_len == 64
    result = engine.generate([prompts[0]], SamplingParams(max_tokens=None, temperature=0, ignore_eos=True))[0]
    assert result.finish_reason is FinishReason.LENGTH
    assert result.num_prompt_tokens + len(result.token_ids) == 64


def test_a_prompt_longer_than_the_pool_is_refused_up_front(make_engine, prompts):
    engine = make_engine(kv_budget_bytes=1 * BLOCK_BYTES)
    with pytest.raises(ValueError, match="at most 16 tokens"):
        engine.add_request(prompts[0] + prompts[1], GREEDY)
    assert not engine.has_unfinished()


@pytest.mark.parametrize("prefix_cache", [True, False])
def test_pool_exhaustion_swaps_out_and_back_with_identical_tokens(make_engine, prompts, expected, prefix_cache):
    engine = make_engine(kv_budget_bytes=8 * BLOCK_BYTES, enable_prefix_cache=prefix_cache, preemption="swap")
    results = engine.generate(prompts, GREEDY)
    stats = engine.host_pool.stats
    assert engine.scheduler.num_preemptions > 0 and stats.swaps_out > 0 and stats.swaps_in > 0
    assert [r.token_ids for r in results] == expected
    assert all(r.finish_reason is FinishReason.LENGTH for r in results)
    # every swapped sequence's host range came back; the rest hold evicted prefixes (the host tier)
    tier_blocks = engine.host_tier.host_blocks if prefix_cache else 0
    assert engine.host_pool.num_free_blocks == engine.host_pool.num_blocks - tier_blocks
    cached = engine.block_manager.radix.cached_blocks if prefix_cache else 0
    assert engine.pool.allocator.num_used == cached
    engine.close()


def test_without_host_room_preemption_falls_back_to_recompute(make_engine, prompts, expected):
    engine = make_engine(kv_budget_bytes=8 * BLOCK_BYTES, preemption="swap", host_kv_budget_bytes=BLOCK_BYTES)
    results = engine.generate(prompts, GREEDY)
    assert engine.scheduler.num_preemptions > 0
    assert [r.token_ids for r in results] == expected
    engine.close()


def test_a_flooding_tenant_is_swapped_out_for_a_waiting_one(make_engine, prompts, expected):
    engine = make_engine(kv_budget_bytes=64 * BLOCK_BYTES, max_running=3, preemption="swap", fair_share=True)
    engine.fairness.preempt_gap = 20
    flood = [engine.add_request(p, GREEDY, tenant="flood") for p in prompts[:3]]
    for _ in range(6):
        engine.step()
    steady = [engine.add_request(p, GREEDY, tenant="steady") for p in prompts[3:]]
    while engine.has_unfinished():
        engine.step()
    assert engine.fairness.preemptions > 0 and engine.host_pool.stats.swaps_out > 0
    assert any(seq.num_preemptions for seq in flood)
    assert [seq.output_token_ids for seq in flood + steady] == expected
    # the steady tenant did not wait for the whole flood to finish
    assert min(seq.first_token_time for seq in steady) < max(seq.finish_time for seq in flood)
    engine.close()


def test_a_swap_in_done_at_once_still_reserves_blocks_for_the_next_token(make_engine, prompts, expected, monkeypatch):
    """The timing where every swap-in has finished by the time the scheduler looks."""
    from gpu_backend.kv.host_swap import HostKVPool

    asynchronous = HostKVPool.swap_in

    def finished_at_once(self, taken, device_blocks):
        future = asynchronous(self, taken, device_blocks)
        future.result()
        return future

    monkeypatch.setattr(HostKVPool, "swap_in", finished_at_once)
    engine = make_engine(kv_budget_bytes=8 * BLOCK_BYTES, preemption="swap")
    assert [r.token_ids for r in engine.generate(prompts, GREEDY)] == expected
    assert engine.host_pool.stats.swaps_in > 0
    engine.close()
