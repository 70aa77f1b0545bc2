"""When generation stops: stop strings, stop tokens, max_tokens or the default bound; and what text is streamed."""

import functools

import pytest
import torch
from engine_support import TINY_CONFIG, tiny_engine

from gpu_backend.engine import FinishReason, SamplingParams
from gpu_backend.kv import bytes_per_block

PROMPT_TEXT = "Write a short story about a lighthouse keeper and a storm."


@pytest.fixture(scope="module")
def make_engine(smollm2):
    return functools.partial(tiny_engine, smollm2.tokenizer)


@pytest.fixture(scope="module")
def prompt(smollm2) -> list[int]:
    return smollm2.tokenizer.encode(PROMPT_TEXT)


@pytest.fixture(scope="module")
def free_run(make_engine, prompt):
    """What the tiny model says with no stop condition but max_tokens."""
    return make_engine().generate([prompt], SamplingParams(max_tokens=30, temperature=0, ignore_eos=True))[0]


def stream(engine, prompt, params) -> tuple[list[str], object]:
    seq = engine.add_request(prompt, params)
    deltas = []
    while not seq.is_finished:
        deltas += [o.new_text for o in engine.step() if o.seq_id == seq.seq_id]
    return deltas, seq


def test_max_tokens_ends_with_length(smollm2, free_run):
    assert free_run.finish_reason is FinishReason.LENGTH
    assert len(free_run.token_ids) == 30
    assert free_run.text == smollm2.tokenizer.decode(free_run.token_ids)


def test_a_stop_string_ends_generation_and_is_not_returned(make_engine, prompt, free_run):
    text = free_run.text
    stop = text[len(text) // 2 : len(text) // 2 + 4]
    deltas, seq = stream(make_engine(), prompt, SamplingParams(max_tokens=30, temperature=0, stop=("\x00never", stop)))
    final = "".join(deltas)
    assert seq.finish_reason is FinishReason.STOP
    assert final == text[: text.index(stop)]
    assert stop not in final
    # Every streamed prefix is a prefix of the final text: no part of the stop string leaked.
    for n in range(len(deltas)):
        assert final.startswith("".join(deltas[:n]))
    assert len(seq.output_token_ids) < 30


def test_a_stop_token_ends_generation(smollm2, make_engine, prompt, free_run):
    stop_token = free_run.token_ids[4]
    first = free_run.token_ids.index(stop_token)
    result = make_engine().generate(
        [prompt], SamplingParams(max_tokens=30, temperature=0, stop_token_ids=(stop_token,))
    )[0]
    assert result.finish_reason is FinishReason.STOP
    assert result.token_ids == free_run.token_ids[: first + 1]
    assert result.text == smollm2.tokenizer.decode(free_run.token_ids[:first])


def test_streamed_deltas_concatenate_to_the_whole_text(make_engine, prompt, free_run):
    deltas, seq = stream(make_engine(), prompt, SamplingParams(max_tokens=30, temperature=0, ignore_eos=True))
    assert "".join(deltas) == free_run.text
    assert seq.output_token_ids == free_run.token_ids


def test_a_request_without_max_tokens_stops_at_the_default_bound(make_engine, prompt, free_run):
    engine = make_engine(default_max_tokens=7)
    result = engine.generate([prompt], SamplingParams(max_tokens=None, temperature=0, ignore_eos=True))[0]
    assert result.finish_reason is FinishReason.LENGTH
    assert result.token_ids == free_run.token_ids[:7]
    assert engine.stats.default_bound_cuts == 1
    # A request's own max_tokens wins, and a cut it asked for is not counted as the default's.
    asked = engine.generate([prompt], SamplingParams(max_tokens=12, temperature=0, ignore_eos=True))[0]
    assert asked.token_ids == free_run.token_ids[:12]
    assert engine.stats.default_bound_cuts == 1


def test_the_default_bound_never_exceeds_the_context(make_engine, prompt):
    # A pool of 4 blocks of 16 tokens: a sequence holds at most 64 tokens, prompt included.
    block = bytes_per_block(TINY_CONFIG.num_layers, TINY_CONFIG.num_kv_heads, TINY_CONFIG.head_dim, 16, torch.float32)
    engine = make_engine(kv_budget_bytes=4 * block, default_max_tokens=512)
    assert engine.max_model_len == 64
    result = engine.generate([prompt], SamplingParams(max_tokens=None, temperature=0, ignore_eos=True))[0]
    assert result.finish_reason is FinishReason.LENGTH
    assert result.num_prompt_tokens + len(result.token_ids) == 64
    assert engine.stats.default_bound_cuts == 1
