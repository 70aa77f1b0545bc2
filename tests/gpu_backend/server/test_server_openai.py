"""The OpenAI-compatible server over real HTTP on loopback, with the real SmolLM2 model and
the official `openai` SDK."""

import time

import httpx
import openai
import pytest
from backend_metrics import metric
from loopback import ServerThread

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import AsyncEngine, EngineConfig, LLMEngine
from gpu_backend.server import BackendService, build_app

MODEL = "smollm2-135m"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def base_url(smollm2):
    engine = AsyncEngine(build_from_loaded(smollm2, EngineConfig(kv_budget_bytes=128 << 20)))
    service = BackendService(engine, smollm2.tokenizer, smollm2.chat_template, (MODEL, "smollm2"))
    with ServerThread(build_app(service)) as server:
        yield server.url


@pytest.fixture(scope="module")
def client(base_url):
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused")


def test_chat_answers_the_capital_of_france(client):
    response = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=30)
    choice = response.choices[0]
    assert "Paris" in choice.message.content
    assert choice.finish_reason == "stop"
    assert response.usage.completion_tokens > 0
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


def test_streaming_chat_gives_the_same_answer_and_usage(client):
    whole = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=30)
    chunks = list(client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=30,
                                                 stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    # The second identical request found the chat prefix in the cache.
    assert chunks[-1].usage.prompt_tokens_details.cached_tokens > 0


def test_text_completion_stream_and_not(client):
    whole = client.completions.create(model=MODEL, prompt="The capital of France is", temperature=0, max_tokens=5)
    assert whole.choices[0].finish_reason == "length"
    assert whole.usage.completion_tokens == 5
    streamed = client.completions.create(model=MODEL, prompt="The capital of France is", temperature=0,
                                         max_tokens=5, stream=True)
    assert "".join(c.choices[0].text for c in streamed) == whole.choices[0].text


def test_stop_strings_are_honoured_over_http(client):
    response = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0, max_tokens=30,
                                              stop=["Paris"])
    assert response.choices[0].finish_reason == "stop"
    assert "Paris" not in response.choices[0].message.content


def test_models_and_health(client, base_url):
    assert [m.id for m in client.models.list()] == [MODEL, "smollm2"]
    assert httpx.get(f"{base_url}/healthz").json()["status"] == "ok"


def test_bad_input_gets_openai_errors(client, base_url):
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-model", messages=QUESTION)
    assert missing.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=5)
    assert bad.value.body["param"] == "temperature"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=[])
    response = httpx.post(f"{base_url}/v1/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    too_long = httpx.post(f"{base_url}/v1/completions", json={"model": MODEL, "prompt": list(range(100)) * 100})
    assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "context_length_exceeded"


def test_metrics_report_the_engine(client, base_url):
    client.completions.create(model=MODEL, prompt="Hello", max_tokens=3, temperature=0)
    assert metric(base_url, "generation_tokens_total") >= 3
    assert metric(base_url, "queue_depth") == 0
    assert 0 < metric(base_url, "kv_usage_ratio") <= 1
    assert 0 <= metric(base_url, "prefix_cache_hit_rate") <= 1
    assert metric(base_url, "generation_tokens_per_second") > 0


def test_a_client_that_disconnects_mid_stream_is_aborted(base_url):
    before = metric(base_url, "requests_aborted_total")
    body = {"model": MODEL, "prompt": "Count to a thousand:", "max_tokens": 1000, "ignore_eos": True, "stream": True}
    with httpx.stream("POST", f"{base_url}/v1/completions", json=body) as response:
        lines = response.iter_lines()
        assert next(line for line in lines if line.startswith("data: "))
    deadline = time.monotonic() + 20
    while metric(base_url, "requests_aborted_total") == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert metric(base_url, "requests_aborted_total") == before + 1
    assert metric(base_url, "running_sequences") == 0


def test_tenant_salt_header_isolates_the_prefix_cache(base_url):
    body = {"model": MODEL, "prompt": "A tenant-specific prompt that spans more than one block of sixteen tokens "
            "so that it can be cached.", "max_tokens": 1, "temperature": 0}
    first = httpx.post(f"{base_url}/v1/completions", json=body, headers={"x-semgate-kv-salt": "tenant-a"}).json()
    other = httpx.post(f"{base_url}/v1/completions", json=body, headers={"x-semgate-kv-salt": "tenant-b"}).json()
    same = httpx.post(f"{base_url}/v1/completions", json=body, headers={"x-semgate-kv-salt": "tenant-a"}).json()
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert other["usage"]["prompt_tokens_details"]["cached_tokens"] == 0
    assert same["usage"]["prompt_tokens_details"]["cached_tokens"] > 0


def test_a_client_that_gives_up_on_a_non_streaming_request_is_aborted(base_url):
    before = metric(base_url, "requests_aborted_total")
    body = {"model": MODEL, "prompt": "Count to a thousand:", "max_tokens": 1000, "ignore_eos": True}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{base_url}/v1/completions", json=body, timeout=httpx.Timeout(10, read=1.0))
    deadline = time.monotonic() + 20
    while metric(base_url, "requests_aborted_total") == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert metric(base_url, "requests_aborted_total") == before + 1
    assert metric(base_url, "running_sequences") == 0
