"""When generation stops: stop strings, stop tokens, max_tokens; and what text is streamed."""

import functools

import pytest
from engine_support import tiny_engine

from gpu_backend.engine import FinishReason, SamplingParams

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
