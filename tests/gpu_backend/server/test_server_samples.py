"""`n` > 1 over real HTTP with the real SmolLM2 model and the official `openai` SDK: n choices from
one prefill, usage counted as OpenAI counts it."""

import openai
import pytest
from loopback import ServerThread

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import AsyncEngine, EngineConfig, LLMEngine
from gpu_backend.server import BackendService, build_app

MODEL = "smollm2-135m"


@pytest.fixture(scope="module")
def served(smollm2):
    engine = build_from_loaded(smollm2, EngineConfig(kv_budget_bytes=64 << 20))
    service = BackendService(AsyncEngine(engine), smollm2.tokenizer, smollm2.chat_template, (MODEL,))
    with ServerThread(build_app(service)) as server:
        yield openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused"), engine


def test_three_choices_from_one_prefill(served):
    client, engine = served
    before = engine.stats.prefill_tokens
    response = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Name a colour."}], n=3, temperature=1.0, seed=7,
        max_tokens=12, extra_body={"ignore_eos": True})
    assert [c.index for c in response.choices] == [0, 1, 2]
    assert engine.stats.prefill_tokens - before == response.usage.prompt_tokens  # the prompt computed once
    assert response.usage.completion_tokens == 3 * 12  # every sample's tokens, the prompt once
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens
    assert len({c.message.content for c in response.choices}) > 1  # each sample on its own seed


def test_seeded_samples_are_reproducible_and_text_completions_take_n(served):
    client, _ = served
    ask = dict(model=MODEL, prompt="My favourite animal is", n=2, temperature=1.0, seed=3, max_tokens=6,
               extra_body={"ignore_eos": True})
    first, again = client.completions.create(**ask), client.completions.create(**ask)
    assert [c.text for c in first.choices] == [c.text for c in again.choices]
    assert first.usage.completion_tokens == 12


def test_streamed_choices_carry_their_index_and_share_one_prefill(served):
    client, engine = served
    ask = dict(model=MODEL, messages=[{"role": "user", "content": "Name a bird."}], n=3, temperature=1.0, seed=11,
               max_tokens=8, extra_body={"ignore_eos": True})
    before = engine.stats.prefill_tokens
    chunks = list(client.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True}))
    texts, finishes, roles = ["", "", ""], [None, None, None], []
    for chunk in chunks[:-1]:
        [choice] = chunk.choices
        texts[choice.index] += choice.delta.content or ""
        finishes[choice.index] = choice.finish_reason or finishes[choice.index]
        roles += [choice.index] if choice.delta.role else []
    usage = chunks[-1].usage
    assert sorted(roles) == [0, 1, 2] and finishes == ["length"] * 3
    computed = usage.prompt_tokens - usage.prompt_tokens_details.cached_tokens
    assert engine.stats.prefill_tokens - before == computed > 3  # the prompt (past the cached prefix) once
    assert usage.completion_tokens == 3 * 8
    whole = client.chat.completions.create(**ask)  # the same seeds: the same three answers
    assert texts == [c.message.content for c in whole.choices]


def test_text_completions_stream_n_choices_too(served):
    client, _ = served
    ask = dict(model=MODEL, prompt="My favourite city is", n=2, temperature=1.0, seed=3, max_tokens=5,
               extra_body={"ignore_eos": True})
    texts = ["", ""]
    for chunk in client.completions.create(**ask, stream=True):
        texts[chunk.choices[0].index] += chunk.choices[0].text
    assert texts == [c.text for c in client.completions.create(**ask).choices]
