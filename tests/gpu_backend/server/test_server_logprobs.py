"""`logprobs` over real HTTP with the real SmolLM2 model and the official `openai` SDK: OpenAI's
shapes, streamed and not, consistent with the tokens sampled."""

import math

import openai
import pytest
from loopback import ServerThread

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import AsyncEngine, EngineConfig, LLMEngine
from gpu_backend.server import BackendService, build_app

MODEL = "smollm2-135m"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def client(smollm2):
    engine = AsyncEngine(build_from_loaded(smollm2, EngineConfig(kv_budget_bytes=64 << 20)))
    service = BackendService(engine, smollm2.tokenizer, smollm2.chat_template, (MODEL,))
    with ServerThread(build_app(service)) as server:
        yield openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused")


def test_chat_logprobs_greedy_tokens_are_the_most_likely(client):
    response = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=30,
                                              logprobs=True, top_logprobs=3)
    choice = response.choices[0]
    entries = choice.logprobs.content
    # Ended by the end-of-turn token, which (no text) has no entry, as with OpenAI.
    assert choice.finish_reason == "stop"
    assert len(entries) == response.usage.completion_tokens - 1
    assert "".join(e.token for e in entries) == choice.message.content
    for entry in entries:
        assert len(entry.top_logprobs) == 3 and entry.logprob <= 0
        assert entry.token == entry.top_logprobs[0].token
        assert entry.logprob == pytest.approx(entry.top_logprobs[0].logprob)
        assert bytes(entry.bytes).decode() == entry.token


def test_streamed_chat_logprobs_match_the_whole_answer(client):
    whole = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=8,
                                           logprobs=True, top_logprobs=2)
    chunks = list(client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=8,
                                                 logprobs=True, top_logprobs=2, stream=True))
    streamed = [e for c in chunks if c.choices and c.choices[0].logprobs for e in c.choices[0].logprobs.content]
    assert [e.token for e in streamed] == [e.token for e in whole.choices[0].logprobs.content]
    assert [e.logprob for e in streamed] == pytest.approx([e.logprob for e in whole.choices[0].logprobs.content])


def test_sampled_tokens_carry_their_own_logprob(client):
    response = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=1.0, seed=4, max_tokens=8,
                                              logprobs=True, top_logprobs=5)
    for entry in response.choices[0].logprobs.content:
        alternatives = {t.token: t.logprob for t in entry.top_logprobs}
        assert entry.logprob <= entry.top_logprobs[0].logprob + 1e-6
        if entry.token in alternatives:
            assert entry.logprob == pytest.approx(alternatives[entry.token])
        assert sum(math.exp(lp) for lp in alternatives.values()) <= 1 + 1e-4


def test_chat_without_logprobs_has_none(client):
    response = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=4)
    assert response.choices[0].logprobs is None


@pytest.mark.parametrize("stream", [False, True])
def test_completion_logprobs_in_openai_shape(client, stream):
    kwargs = dict(model=MODEL, prompt="The capital of France is", temperature=0, max_tokens=6, logprobs=2)
    if stream:
        chunks = list(client.completions.create(**kwargs, stream=True))
        text = "".join(c.choices[0].text for c in chunks)
        tokens = [t for c in chunks if c.choices[0].logprobs for t in c.choices[0].logprobs.tokens]
        logprobs = [lp for c in chunks if c.choices[0].logprobs for lp in c.choices[0].logprobs.token_logprobs]
        tops = [t for c in chunks if c.choices[0].logprobs for t in c.choices[0].logprobs.top_logprobs]
        offsets = [o for c in chunks if c.choices[0].logprobs for o in c.choices[0].logprobs.text_offset]
    else:
        choice = client.completions.create(**kwargs).choices[0]
        text, lp = choice.text, choice.logprobs
        tokens, logprobs, tops, offsets = lp.tokens, lp.token_logprobs, lp.top_logprobs, lp.text_offset
    assert len(tokens) == 6 and "".join(tokens) == text
    assert offsets == [sum(len(t) for t in tokens[:i]) for i in range(len(tokens))]
    for token, logprob, top in zip(tokens, logprobs, tops):
        assert len(top) == 2 and max(top, key=top.get) == token
        assert logprob == pytest.approx(max(top.values()))
