"""Continuous batching and chunked prefill must not change what a request generates."""

import functools

import pytest
from engine_support import tiny_engine

from gpu_backend.engine import FinishReason, SamplingParams
from gpu_backend.errors import InvalidRequest

GREEDY = SamplingParams(max_tokens=12, temperature=0, ignore_eos=True)
TEXTS = [
    "Hello there",
    "The capital of France is",
    "One two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen",
    "A much longer prompt about the history of paged attention, radix trees and continuous batching "
    "in language model serving engines, written so that it spans several KV blocks of sixteen tokens.",
]


@pytest.fixture(scope="module")
def make_engine(smollm2):
    return functools.partial(tiny_engine, smollm2.tokenizer)


@pytest.fixture(scope="module")
def prompts(smollm2) -> list[list[int]]:
    return [smollm2.tokenizer.encode(text) for text in TEXTS]


@pytest.fixture(scope="module")
def alone(make_engine, prompts) -> list[list[int]]:
    """Each prompt's greedy tokens when it runs alone on a fresh engine (no cache, no batch)."""
    return [make_engine(enable_prefix_cache=False).generate([p], GREEDY)[0].token_ids for p in prompts]


def run_to_completion(engine, seqs) -> None:
    while any(not seq.is_finished for seq in seqs):
        engine.step()


def test_batched_requests_generate_the_same_tokens_as_alone(make_engine, prompts, alone):
    engine = make_engine(enable_prefix_cache=False)
    results = engine.generate(prompts, GREEDY)
    assert [r.token_ids for r in results] == alone
    assert all(r.finish_reason is FinishReason.LENGTH and len(r.token_ids) == 12 for r in results)


def test_requests_joining_and_leaving_mid_flight_keep_their_tokens(make_engine, prompts, alone):
    engine = make_engine(enable_prefix_cache=False)
    short = SamplingParams(max_tokens=3, temperature=0, ignore_eos=True)
    first = engine.add_request(prompts[0], GREEDY)
    leaver = engine.add_request(prompts[1], short)
    for _ in range(4):
        engine.step()
    assert leaver.is_finished and not first.is_finished
    late = [engine.add_request(p, GREEDY) for p in prompts[2:]]
    run_to_completion(engine, [first, *late])
    assert first.output_token_ids == alone[0]
    assert leaver.output_token_ids == alone[1][:3]
    assert [s.output_token_ids for s in late] == alone[2:]


def test_chunked_prefill_equals_unchunked(make_engine, prompts, alone):
    engine = make_engine(enable_prefix_cache=False, max_prefill_tokens=7)
    results = engine.generate(prompts, GREEDY)
    assert [r.token_ids for r in results] == alone
    # The long prompt needed several prefill steps of at most 7 tokens.
    assert engine.stats.prefill_steps >= sum(len(p) for p in prompts) // 7


def test_admission_limit_caps_the_running_batch(make_engine, prompts, alone):
    engine = make_engine(enable_prefix_cache=False, max_running=2)
    seqs = [engine.add_request(p, GREEDY) for p in prompts]
    most_running = 0
    while any(not s.is_finished for s in seqs):
        engine.step()
        most_running = max(most_running, len(engine.scheduler.running))
    assert most_running == 2
    assert [s.output_token_ids for s in seqs] == alone


def test_blocks_all_return_to_the_pool_when_requests_finish(make_engine, prompts):
    engine = make_engine(enable_prefix_cache=False)
    engine.generate(prompts, GREEDY)
    assert engine.pool.allocator.num_used == 0


def test_generate_refuses_a_params_list_of_another_length(make_engine, prompts):
    """Two params for four prompts used to run the first two prompts and drop the rest silently."""
    engine = make_engine(enable_prefix_cache=False)
    with pytest.raises(InvalidRequest, match="2 sampling params for 4 prompts"):
        engine.generate(prompts, [GREEDY, GREEDY])
    assert not engine.has_unfinished()
