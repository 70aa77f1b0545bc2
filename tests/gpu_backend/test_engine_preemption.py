"""Back-pressure: when the KV pool runs out, sequences are preempted and recomputed,
and every request still completes with the tokens it would have had anyway."""

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


@pytest.mark.parametrize("prefix_cache", [True, False])
def test_pool_exhaustion_preempts_and_every_request_completes_correctly(make_engine, prompts, prefix_cache):
    expected = [r.token_ids for r in make_engine(enable_prefix_cache=False).generate(prompts, GREEDY)]
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
