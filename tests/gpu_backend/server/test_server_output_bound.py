"""A request that sets no max_tokens gets the backend's default bound, not minutes of output: a
greedy small model loops on some questions until the context is full."""

import json

import httpx
import openai
import pytest
from backend_metrics import metric
from loopback import ServerThread

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import AsyncEngine, EngineConfig, LLMEngine
from gpu_backend.server import BackendService, build_app

MODEL = "smollm2-135m"
DEFAULT_BOUND = 8  # `semgate backend --default-max-tokens`; small, so that the test is quick


@pytest.fixture(scope="module")
def base_url(smollm2):
    config = EngineConfig(kv_budget_bytes=128 << 20, default_max_tokens=DEFAULT_BOUND)
    service = BackendService(AsyncEngine(build_from_loaded(smollm2, config)), smollm2.tokenizer,
                             smollm2.chat_template, (MODEL,))
    with ServerThread(build_app(service)) as server:
        yield server.url


def test_a_chat_request_without_max_tokens_ends_at_the_default_bound(base_url):
    # Greedy SmolLM2 talks about zero until the context is full (~2,900 tokens, many minutes on a CPU).
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", timeout=120, max_retries=0)
    before = metric(base_url, "requests_cut_at_default_bound_total")
    answer = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is 0 plus 0?"}])
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == DEFAULT_BOUND
    assert answer.choices[0].message.content
    assert metric(base_url, "requests_cut_at_default_bound_total") == before + 1
    # The client's own bound wins, and its cut is not the default's.
    asked = client.chat.completions.create(model=MODEL, max_tokens=3,
                                           messages=[{"role": "user", "content": "What is 0 plus 0?"}])
    assert asked.choices[0].finish_reason == "length" and asked.usage.completion_tokens == 3
    assert metric(base_url, "requests_cut_at_default_bound_total") == before + 1


def test_a_streamed_completion_with_max_tokens_null_ends_at_the_default_bound(base_url):
    body = {"model": MODEL, "prompt": "Once upon a time", "max_tokens": None, "temperature": 0, "stream": True,
            "stream_options": {"include_usage": True}}
    with httpx.stream("POST", f"{base_url}/v1/completions", json=body, timeout=120) as response:
        events = [json.loads(line[len("data: "):]) for line in response.iter_lines() if line.startswith("data: {")]
    *chunks, usage = events
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert usage["usage"]["completion_tokens"] == DEFAULT_BOUND


def test_an_answer_cut_while_looping_is_counted(base_url):
    before = metric(base_url, "requests_cut_looping_total")
    # Greedy SmolLM2 continues "ha ha ha ..." with " ha" for as long as it may.
    looping = httpx.post(f"{base_url}/v1/completions", timeout=120, json={
        "model": MODEL, "prompt": "ha ha ha ha ha ha ha ha", "max_tokens": 12, "temperature": 0}).json()
    assert looping["choices"][0]["finish_reason"] == "length"
    assert metric(base_url, "requests_cut_looping_total") == before + 1
    httpx.post(f"{base_url}/v1/completions", timeout=120, json={
        "model": MODEL, "prompt": "The capital of France is", "max_tokens": 12, "temperature": 0}).raise_for_status()
    assert metric(base_url, "requests_cut_looping_total") == before + 1
