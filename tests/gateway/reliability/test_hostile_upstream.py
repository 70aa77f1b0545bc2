"""An upstream that floods, trickles, answers malformed JSON or quotes our key back, through real HTTP
(loadtest/hostile_upstream.py): the client gets a clear OpenAI-shaped error (in the stream once it
started), the gateway holds no more than the answer cap and no longer than the deadline, nothing
is stored, no secret gets out, and the gateway keeps serving."""

import sqlite3

import httpx
import orjson
import pytest
from reliability_setup import stored_questions
from starlette.middleware.gzip import GZipMiddleware

from gateway.app import build_app
from gateway.config import parse_config
from gateway.relay.sse import DONE, SSEParser
from loadtest.echo_upstream import EchoSettings, EchoUpstream
from loadtest.hostile_upstream import MALFORMED, MALFORMED_STREAM, HostileUpstream

KEY = "sk-hostile-upstream-5e7a1c"
CAP = 64 << 10


@pytest.fixture
def hostile(serve, embedding_model, tmp_path, monkeypatch):
    """(gateway URL, app, hostile upstream): cache on, answers capped at 64 KiB, 1.5 s total per answer."""
    monkeypatch.setenv("HOSTILE_KEY", KEY)
    upstream = HostileUpstream(trickle_s=0.1, slow_s=5)
    up = serve(upstream.app)
    config = parse_config(f"""
listen: 127.0.0.1:8080
backend: {{enabled: false}}
cache: {{enabled: true, store: '{tmp_path / "cache.db"}', policies: config/policies.yaml}}
limits: {{max_answer_bytes: {CAP}}}
upstreams:
  - name: hostile
    base_url: {up.url}/v1
    models: [flood-1, trickle-1, malformed-1, slow-1]
    api_key_env: HOSTILE_KEY
    timeouts: {{connect_s: 1, read_s: 2, total_s: 1.5}}
    retries: 0
    circuit_breaker: {{enabled: false}}
""", "hostile.yaml")
    app = build_app(config, embedding_model)
    return serve(app).url, app, upstream


def ask(url: str, model: str, question: str, stream: bool = False) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": question}], "stream": stream}
    # The client's own timeout is far past the gateway's deadline: if the gateway does not end the answer, this fails.
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=20)


def stream_events(response: httpx.Response) -> list:
    assert response.status_code == 200, response.text
    parser = SSEParser(max_event_bytes=1 << 30)
    return [e.data if e.data == DONE else orjson.loads(e.data) for e in parser.feed(response.content + b"\n\n")]


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["code"] == code


def test_a_flooding_stream_is_cut_at_the_answer_cap_with_an_error_event(hostile):
    url, app, _ = hostile
    response = ask(url, "flood-1", "Flood me", stream=True)
    events = stream_events(response)
    assert events[-1]["error"]["code"] == "upstream_answer_too_large"
    assert len(response.content) < CAP + 4096  # what was relayed stayed within the cap
    assert all("choices" in e for e in events[:-1]) and DONE not in events
    assert stored_questions(app) == []


def test_a_flooding_body_is_a_502_not_gigabytes(hostile):
    url, app, _ = hostile
    assert_error(ask(url, "flood-1", "Flood me whole"), 502, "upstream_answer_too_large")
    assert stored_questions(app) == []


def test_a_trickling_stream_ends_at_the_deadline_though_every_piece_is_within_read_s(hostile):
    url, app, _ = hostile
    events = stream_events(ask(url, "trickle-1", "Trickle", stream=True))
    assert len(events) > 3 and events[-1]["error"]["code"] == "upstream_timeout"
    assert "total_s" in events[-1]["error"]["message"]
    assert stored_questions(app) == []


def test_a_trickling_body_is_a_504_at_the_deadline(hostile):
    url, app, _ = hostile
    assert_error(ask(url, "trickle-1", "Trickle whole"), 504, "upstream_timeout")


def test_malformed_answers_are_502_never_stored_and_the_key_never_leaves(hostile):
    url, app, _ = hostile
    for i, kind in enumerate(MALFORMED):
        response = ask(url, "malformed-1", f"Malformed question {i}?")
        assert KEY not in response.text
        if kind == "quote_key":  # a proper answer, scrubbed
            assert response.status_code == 200 and "<redacted>" in response.json()["choices"][0]["message"]["content"]
        else:
            assert_error(response, 502, "upstream_bad_answer")
    assert stored_questions(app) == [f"Malformed question {MALFORMED.index('quote_key')}?"]
    with_list = f"Malformed question {MALFORMED.index('list_content')}?"
    # The question whose answer was a list was not stored: asked again streaming, it is no 500 from the cache.
    assert ask(url, "malformed-1", with_list, stream=True).status_code == 200
    [stored] = [r[0] for r in _stored_answers(app)]
    assert KEY not in stored and "<redacted>" in stored


def test_malformed_stream_events_end_the_stream_with_an_error_and_are_never_relayed(hostile):
    url, app, _ = hostile
    for i, kind in enumerate(MALFORMED_STREAM):
        response = ask(url, "malformed-1", f"Malformed stream {i}?", stream=True)
        assert KEY not in response.text
        events = stream_events(response)
        if kind == "quote_key":
            assert events[-1] == DONE
        else:
            assert events[-1]["error"]["code"] == "upstream_bad_answer"
            assert all(isinstance(c["delta"]["content"], str) for e in events[:-1] for c in e["choices"])
    assert stored_questions(app) == [f"Malformed stream {MALFORMED_STREAM.index('quote_key')}?"]


def test_after_all_that_the_gateway_still_answers(hostile):
    url, _, upstream = hostile
    ask(url, "flood-1", "Flood", stream=True)
    ask(url, "malformed-1", "Bad")
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"


def _stored_answers(app) -> list:
    with sqlite3.connect(app.state.config.cache.store_path) as db:
        return db.execute("SELECT response FROM entries").fetchall()


def test_an_entry_stored_before_answers_were_checked_is_answered_again_not_replayed_as_a_500(
        start_gateway, upstream, tmp_path):
    url, app = start_gateway()
    question = "What is a poisoned entry?"
    assert httpx.post(f"{url}/v1/chat/completions", json={"model": "echo-1", "messages": [
        {"role": "user", "content": question}]}).headers["x-semgate-cache"] == "miss"
    poisoned = {"choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": [{"type": "text", "text": "a list"}]}}]}
    with sqlite3.connect(tmp_path / "cache.db") as db:  # what an older gateway stored
        db.execute("UPDATE entries SET response = ?", (orjson.dumps(poisoned).decode(),))
    body = {"model": "echo-1", "messages": [{"role": "user", "content": question}], "stream": True}
    response = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=20)
    assert response.status_code == 200 and response.headers["x-semgate-cache"] == "miss"
    assert stream_events(response)[-1] == DONE
    again = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=20)  # the entry was replaced
    assert again.headers["x-semgate-cache"] == "hit" and stream_events(again)[-1] == DONE


@pytest.mark.parametrize("stream", [False, True])
def test_a_compressed_answer_is_relayed_decoded(serve, stream):
    echo = EchoUpstream(EchoSettings(models=("echo-1",)))
    up = serve(GZipMiddleware(echo.app, minimum_size=10))
    app = build_app(parse_config(f"""
listen: 127.0.0.1:8080
backend: {{enabled: false}}
cache: {{enabled: false}}
upstreams: [{{name: echo, base_url: '{up.url}/v1', models: [echo-1], retries: 0}}]
""", "gzip.yaml"))
    response = ask(serve(app).url, "echo-1", "Is this compressed on the way?", stream=stream)
    assert response.status_code == 200, response.text
    if stream:
        assert stream_events(response)[-1] == DONE
    else:
        assert response.json()["choices"][0]["message"]["content"] == "Echo: Is this compressed on the way?"
