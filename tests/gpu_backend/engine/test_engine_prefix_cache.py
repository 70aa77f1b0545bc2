"""The prefix cache: a hit skips recomputing the shared prefix and changes no output."""

import functools

import pytest
from engine_support import tiny_engine

from gpu_backend.engine import SamplingParams

GREEDY = SamplingParams(max_tokens=10, temperature=0, ignore_eos=True)
SHARED = (
    "You are a careful assistant. Answer briefly and cite the relevant section of the manual. "
    "The manual covers installation, configuration, tenants, caching policies and benchmarks. "
)


@pytest.fixture(scope="module")
def make_engine(smollm2):
    return functools.partial(tiny_engine, smollm2.tokenizer)


@pytest.fixture(scope="module")
def encode(smollm2):
    return smollm2.tokenizer.encode


def test_a_prefix_hit_gives_the_same_tokens_and_reports_the_cached_tokens(make_engine, encode):
    prompt = encode(SHARED + "How do I install it?")
    cold = make_engine(enable_prefix_cache=False).generate([prompt], GREEDY)[0]
    engine = make_engine()
    first = engine.generate([prompt], GREEDY)[0]
    again = engine.generate([prompt], GREEDY)[0]
    assert first.num_cached_tokens == 0
    # Everything but the last (partial) block comes from the cache.
    assert again.num_cached_tokens == (len(prompt) - 1) // 16 * 16 > 0
    assert first.token_ids == again.token_ids == cold.token_ids


def test_requests_sharing_a_prefix_reuse_it_with_different_questions(make_engine, encode):
    questions = ["How do I install it?", "What is a tenant?", "Where are the benchmarks?"]
    prompts = [encode(SHARED + q) for q in questions]
    expected = [make_engine(enable_prefix_cache=False).generate([p], GREEDY)[0].token_ids for p in prompts]
    engine = make_engine()
    warm = engine.generate([prompts[0]], GREEDY)[0]
    rest = engine.generate(prompts[1:], GREEDY)
    for prompt, result in zip(prompts[1:], rest):
        common = next(i for i, (a, b) in enumerate(zip(prompt, prompts[0])) if a != b)
        assert result.num_cached_tokens == common // 16 * 16 > 0
    assert [warm.token_ids, *(r.token_ids for r in rest)] == expected
    radix = engine.block_manager.radix
    assert radix.stats.hits == 2 and radix.stats.token_hit_rate > 0.3


def test_a_long_prompt_is_cached_chunk_by_chunk_for_requests_arriving_meanwhile(make_engine, encode):
    prompts = [encode(SHARED * 3 + q) for q in ("First question?", "Second question?")]
    engine = make_engine(max_prefill_tokens=32)
    first = engine.add_request(prompts[0], GREEDY)
    engine.step()
    engine.step()  # two 32-token chunks of the first prompt are computed and cached
    second = engine.add_request(prompts[1], GREEDY)
    while not (first.is_finished and second.is_finished):
        engine.step()
    assert second.num_cached_tokens >= 64
    expected = make_engine(enable_prefix_cache=False).generate([prompts[1]], GREEDY)[0].token_ids
    assert second.output_token_ids == expected


def test_different_salts_never_share_kv(make_engine, encode):
    prompt = encode(SHARED + "How do I install it?")
    engine = make_engine()
    tenant_a = SamplingParams(max_tokens=4, temperature=0, cache_salt="tenant-a")
    tenant_b = SamplingParams(max_tokens=4, temperature=0, cache_salt="tenant-b")
    engine.generate([prompt], tenant_a)
    other = engine.generate([prompt], tenant_b)[0]
    same = engine.generate([prompt], tenant_a)[0]
    assert other.num_cached_tokens == 0
    assert same.num_cached_tokens > 0
    assert other.token_ids == same.token_ids


def test_without_the_prefix_cache_nothing_is_reused_or_kept(make_engine, encode):
    prompt = encode(SHARED + "How do I install it?")
    engine = make_engine(enable_prefix_cache=False)
    engine.generate([prompt], GREEDY)
    assert engine.generate([prompt], GREEDY)[0].num_cached_tokens == 0
    assert engine.pool.allocator.num_used == 0
