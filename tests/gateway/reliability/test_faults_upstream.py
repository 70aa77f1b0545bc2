"""Upstream faults through real HTTP: down, slow, 5xx, 429, a stream cut halfway.

Whatever the upstream does, hits keep being served, misses get a clear OpenAI-shaped error,
the circuit breaker stops sending work to a failing upstream and probes it back, and no
failed or truncated answer ever reaches the store.
"""

import time

import httpx
import openai
import pytest
from reliability_setup import answer, ask, stored_questions

QUESTION = "How do I reverse a list in Python?"
BREAKER = "{failures: 2, cooldown_s: 1}"


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code and error["message"]
    return error


ADMIN = {"authorization": "Bearer admin-t"}


def circuit(url: str) -> dict:
    upstreams = httpx.get(f"{url}/admin/v1/upstreams", headers=ADMIN).json()
    return upstreams["data"][0]["circuit"]


@pytest.fixture(autouse=True)
def admin_token(monkeypatch):
    monkeypatch.setenv("SEMGATE_ADMIN_TOKEN", "admin-t")


def test_upstream_down_hits_still_served_misses_get_502(start_gateway, upstream):
    url, app = start_gateway()
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "miss"
    upstream.stop()
    hit = ask(url, QUESTION)
    assert hit.headers["x-semgate-cache"] == "hit" and answer(hit) == f"Echo: {QUESTION}"
    miss = ask(url, "What is a monad in Haskell?")
    assert_error(miss, 502, "upstream_unreachable")
    assert stored_questions(app) == [QUESTION]


def test_breaker_opens_fails_fast_serves_hits_and_probes_back(start_gateway, upstream):
    url, app = start_gateway(breaker=BREAKER)
    ask(url, QUESTION)
    upstream.control(fault="500")
    for question in ("What is a monad?", "What is a functor?"):
        assert ask(url, question).status_code == 500  # the upstream's own error, passed through
    sent = upstream.requests
    refused = ask(url, "What is an applicative?")
    error = assert_error(refused, 503, "upstream_circuit_open")
    assert "circuit breaker" in error["message"] and error["type"] == "server_error"
    assert refused.headers["retry-after"] == "1"
    assert upstream.requests == sent  # failed fast: nothing sent
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "hit"
    view = circuit(url)
    assert view["state"] == "open" and view["opened"] == 1 and view["rejected"] == 1
    assert 'semgate_upstream_circuit_state{upstream="echo"} 2.0' in httpx.get(f"{url}/metrics", headers=ADMIN).text
    assert httpx.get(f"{url}/healthz").json()["upstreams"]["echo"]["circuit"] == "open"

    upstream.control(fault="none")
    time.sleep(1.1)
    probe = ask(url, "What is an applicative?")
    assert probe.headers["x-semgate-cache"] == "miss" and upstream.requests == sent + 1
    assert circuit(url)["state"] == "closed"
    assert 'semgate_upstream_circuit_state{upstream="echo"} 0.0' in httpx.get(f"{url}/metrics", headers=ADMIN).text
    assert stored_questions(app) == sorted([QUESTION, "What is an applicative?"])


def test_a_failed_probe_keeps_it_open(start_gateway, upstream):
    url, _ = start_gateway(breaker="{failures: 1, cooldown_s: 0.5}")
    upstream.stop()
    assert_error(ask(url, "first"), 502, "upstream_unreachable")
    assert_error(ask(url, "second"), 503, "upstream_circuit_open")
    time.sleep(0.6)
    assert_error(ask(url, "probe"), 502, "upstream_unreachable")  # the probe went out and failed
    assert_error(ask(url, "after the probe"), 503, "upstream_circuit_open")
    assert circuit(url)["opened"] == 2


def test_slow_upstream_times_out_with_504_and_nothing_is_stored(start_gateway, upstream):
    url, app = start_gateway(read_s=0.5, breaker=BREAKER)
    upstream.control(fault="stall", fault_count=1)
    assert_error(ask(url, QUESTION), 504, "upstream_timeout")
    # Stalled halfway through a stream: the client gets an error event, the cache gets nothing.
    upstream.control(fault="stall", fault_count=1)
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(model="echo-1", messages=[{"role": "user", "content": QUESTION}],
                                            stream=True))
    assert stored_questions(app) == []
    assert circuit(url)["state"] == "open"  # two timeouts in a row
    assert ask(url, QUESTION).status_code == 503


def test_429_with_retry_after_is_honoured_without_opening_the_circuit(start_gateway, upstream):
    url, app = start_gateway(breaker="{failures: 1, cooldown_s: 30}")
    upstream.control(fault="429", fault_count=1, retry_after_s=1)
    first = ask(url, QUESTION)
    assert first.status_code == 429 and first.headers["retry-after"] == "1"
    sent = upstream.requests
    held = ask(url, QUESTION)
    assert_error(held, 429, "upstream_rate_limited")
    assert held.json()["error"]["type"] == "rate_limit_error" and held.headers["retry-after"] == "1"
    assert upstream.requests == sent  # the gateway waits as asked instead of hammering
    view = circuit(url)
    assert view["state"] == "closed" and view["throttled"] == 1
    time.sleep(1.05)
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "miss"
    assert stored_questions(app) == [QUESTION]


def test_stream_cut_halfway_is_reported_in_the_stream_never_stored_and_counts_as_a_failure(start_gateway, upstream):
    url, app = start_gateway(breaker=BREAKER)
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    body = {"model": "echo-1", "messages": [{"role": "user", "content": "one two three four five six"}], "stream": True}
    upstream.control(fault="cut", fault_count=1)
    received = []
    with pytest.raises(openai.APIError, match="broke off"):
        for chunk in client.chat.completions.create(**body):
            received.append(chunk)
    assert received  # half an answer reached the client before the error event
    assert circuit(url)["consecutive_failures"] == 1
    assert stored_questions(app) == []
    complete = client.chat.completions.with_raw_response.create(**body)
    assert complete.headers["x-semgate-cache"] == "miss"
    list(complete.parse())
    assert circuit(url)["consecutive_failures"] == 0
    assert stored_questions(app) == ["one two three four five six"]


def test_5xx_and_errors_are_never_stored(start_gateway, upstream):
    url, app = start_gateway(breaker="{failures: 100}")
    for fault in ("500", "503", "drop"):
        upstream.control(fault=fault, fault_count=1)
        assert ask(url, QUESTION).status_code >= 500
    assert stored_questions(app) == []
    assert ask(url, QUESTION).headers["x-semgate-cache"] == "miss"
