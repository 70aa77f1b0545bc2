"""The cache through real HTTP: what a client of the gateway sees, and what reaches the upstream."""

import time

import httpx
import openai
import pytest
from gateway_setup import control

QUESTION = "How do I reverse a list in Python?"


def ask(url: str, content: str, *, history: list | None = None, headers: dict | None = None, key: str | None = None,
        **body) -> httpx.Response:
    messages = [*(history or []), {"role": "user", "content": content}]
    auth = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{url}/v1/chat/completions", json={"model": "echo-1", "messages": messages, **body},
                      headers={**auth, **(headers or {})}, timeout=30)


def answer(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def test_miss_then_exact_hit_served_without_upstream(cached_gateway, echo):
    url = cached_gateway()
    first = ask(url, QUESTION)
    assert first.headers["x-semgate-cache"] == "miss"
    assert first.headers["x-semgate-category"]
    second = ask(url, QUESTION)
    assert second.headers["x-semgate-cache"] == "hit"
    assert float(second.headers["x-semgate-similarity"]) == pytest.approx(1.0)
    assert answer(second) == answer(first) == f"Echo: {QUESTION}"
    assert second.json()["id"] != first.json()["id"]
    assert echo.stats.requests == 1


def test_paraphrase_hits_semantically(cached_gateway, echo):
    url = cached_gateway()
    ask(url, "How can I reverse a list in Python?")
    paraphrase = ask(url, "how do I reverse a python list")
    assert paraphrase.headers["x-semgate-cache"] == "hit", paraphrase.headers
    assert 0.7 < float(paraphrase.headers["x-semgate-similarity"]) < 1.0
    assert answer(paraphrase) == "Echo: How can I reverse a list in Python?"
    assert echo.stats.requests == 1


def test_guards_reject_a_different_number(cached_gateway, echo):
    url = cached_gateway()
    ask(url, "How do I lose 10 kg in a month?")
    other = ask(url, "How do I lose 20 kg in a month?")
    assert other.headers["x-semgate-cache"] == "miss"
    assert answer(other) == "Echo: How do I lose 20 kg in a month?"


def test_same_question_after_a_different_conversation_is_a_miss(cached_gateway, echo):
    url = cached_gateway()
    history_a = [{"role": "user", "content": "Let's talk about Rust."}, {"role": "assistant", "content": "Sure."}]
    history_b = [{"role": "user", "content": "Let's talk about Go."}, {"role": "assistant", "content": "Sure."}]
    ask(url, "How do I write a loop?", history=history_a)
    assert ask(url, "How do I write a loop?", history=history_b).headers["x-semgate-cache"] == "miss"
    assert ask(url, "How do I write a loop?", history=history_a).headers["x-semgate-cache"] == "hit"
    assert ask(url, "How do I write a loop?", temperature=1.3).headers["x-semgate-cache"] == "miss"


def test_stream_miss_is_stored_and_hit_replays_as_stream_through_the_sdk(cached_gateway, echo):
    url = cached_gateway()
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused")
    body = {"model": "echo-1", "messages": [{"role": "user", "content": QUESTION}], "stream": True,
            "stream_options": {"include_usage": True}}
    first = list(client.chat.completions.create(**body))
    # Stored before the stream's end reached the client: the repeat sent at once is a hit.
    raw = client.chat.completions.with_raw_response.create(**body)
    assert raw.headers["x-semgate-cache"] == "hit"
    replayed = list(raw.parse())
    text = lambda chunks: "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)  # noqa: E731
    assert text(replayed) == text(first) == f"Echo: {QUESTION}"
    assert replayed[-1].usage.completion_tokens == first[-1].usage.completion_tokens
    assert echo.stats.requests == 1
    # The stored stream also answers the non-streamed request.
    assert client.chat.completions.create(**{**body, "stream": False}).choices[0].message.content == f"Echo: {QUESTION}"


def test_no_cache_bypasses_and_no_store_skips(cached_gateway, echo):
    url = cached_gateway()
    ask(url, QUESTION)
    bypass = ask(url, QUESTION, headers={"cache-control": "no-cache"})
    assert bypass.headers["x-semgate-cache"] == "bypass"
    assert echo.stats.requests == 2
    skipped = ask(url, "What is a monad?", semgate={"no_store": True})
    assert skipped.headers["x-semgate-cache"] == "store-skipped"
    assert ask(url, "What is a monad?").headers["x-semgate-cache"] == "miss"


def test_ttl_override_expires_the_entry(cached_gateway, echo):
    url = cached_gateway()
    ask(url, QUESTION, headers={"x-semgate-ttl": "1"})
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "hit"
    time.sleep(1.2)
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "miss"


def test_bad_ttl_header_is_an_openai_error(cached_gateway):
    response = ask(cached_gateway(), QUESTION, headers={"x-semgate-ttl": "soon"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "x-semgate-ttl"


def test_answers_cut_by_the_upstream_and_failed_answers_are_never_stored(cached_gateway, echo):
    url = cached_gateway()
    # Past the echo upstream's own 64-word bound with no max_tokens asked: cut where the client did not ask.
    rambling = "How do I reverse a list in Python, " + "and why, " * 40 + "in short?"
    assert ask(url, rambling).headers["x-semgate-cache"] == "store-skipped"  # finish_reason length
    # Cut at the max_tokens the request set: what it asked for, kept for that bound only.
    assert ask(url, QUESTION, max_tokens=2).headers["x-semgate-cache"] == "miss"
    assert ask(url, QUESTION, max_tokens=2).headers["x-semgate-cache"] == "hit"
    control(echo, fault="500", fault_count=1)
    failed = ask(url, QUESTION)
    # Not "miss", which says the answer was kept: an error is never stored.
    assert failed.status_code == 500 and failed.headers["x-semgate-cache"] == "store-skipped"
    control(echo, fault="cut", fault_count=1)
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(model="echo-1", messages=[{"role": "user", "content": QUESTION}], stream=True))
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "miss"


def test_tenants_never_share_entries(cached_gateway, echo, monkeypatch):
    monkeypatch.setenv("KEY_A", "sk-a")
    monkeypatch.setenv("KEY_B", "sk-b")
    url = cached_gateway("tenants: [{name: a, api_key_env: KEY_A}, {name: b, api_key_env: KEY_B}]")
    ask(url, QUESTION, key="sk-a")
    assert ask(url, QUESTION, key="sk-b").headers["x-semgate-cache"] == "miss"
    assert ask(url, QUESTION, key="sk-a").headers["x-semgate-cache"] == "hit"


def test_restart_rebuilds_the_index_from_the_store(cached_gateway, echo):
    ask(cached_gateway(), "How can I reverse a list in Python?")
    restarted = cached_gateway()  # a second gateway over the same store file
    response = ask(restarted, "how do I reverse a python list")
    assert response.headers["x-semgate-cache"] == "hit"
    assert echo.stats.requests == 1


def test_a_request_for_logprobs_is_never_answered_from_the_cache(cached_gateway, echo):
    # A streamed answer is recorded without its logprobs: stored, it answered the same request sent
    # without `stream` with none. And a similar question's logprobs are not this prompt's.
    url = cached_gateway()
    streamed = ask(url, QUESTION, logprobs=True, top_logprobs=2, stream=True)
    assert streamed.headers["x-semgate-cache"] == "bypass"
    again = ask(url, QUESTION, logprobs=True, top_logprobs=2)
    assert again.headers["x-semgate-cache"] == "bypass" and again.headers["x-semgate-bypass-reason"] == "logprobs"
    assert echo.stats.requests == 2
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "miss"  # nothing was stored for it either
