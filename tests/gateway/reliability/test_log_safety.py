"""Nothing a client sends reaches a log line unescaped, and no secret reaches a log, an error
or the admin config view.

The formatter is checked on records carrying hostile arguments and tracebacks; then a real
`semgate gateway` process (its stderr captured) gets hostile requests while it holds
secrets of every kind, and its log and answers are searched for them.
"""

import asyncio
import io
import logging
import re
import socket

import httpx
import orjson
import pytest
from gateway_process import gateway_process  # noqa: F401 (fixture)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from gateway.app import build_app
from gateway.config import parse_config
from gateway.observe.log_safety import REDACTED, SafeFormatter

FORGED = "2026-01-01 00:00:00,000 ERROR semgate.admin: forged"
HOSTILE = f"echo-1\n{FORGED}\r\x1b[2J\x1b[31mred\x07\x00"
SECRETS = {"UPSTREAM_KEY": "sk-upstream-7f3a9c1e", "SEMGATE_ADMIN_TOKEN": "admin-token-55e0b2d4",
           "ACME_KEY": "sk-acme-tenant-0c4d8e"}
URL_PASSWORD = "url-pass-9b1f"
# A line of the log: a record (timestamp first), a continuation of one, or the CLI's ready message.
LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+: |  \| |semgate gateway on http)")


def formatted(logger_name: str, emit, secrets=()) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter(secrets=secrets))
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def assert_clean_log(text: str) -> None:
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text), "a raw control character reached the log"
    for line in text.splitlines():
        assert LINE.match(line), f"a line no record started: {line!r}"
    for secret in (*SECRETS.values(), URL_PASSWORD):
        assert secret not in text


def test_hostile_arguments_are_escaped_and_stay_on_their_line():
    text = formatted("semgate.test.args", lambda log: log.warning("model %s from %r", HOSTILE, HOSTILE))
    assert_clean_log(text)
    assert text.count("\n") == 1 and "\\x1b[2J" in text and "\\n2026-01-01" in text


def test_a_traceback_keeps_its_lines_but_cannot_start_a_record():
    def emit(log):
        try:
            raise ValueError(f"bad model {HOSTILE}")
        except ValueError:
            log.exception("request failed")

    text = formatted("semgate.test.trace", emit)
    assert_clean_log(text)
    assert "Traceback (most recent call last):" in text and "ValueError: bad model" in text
    assert not any(line.startswith(FORGED) for line in text.splitlines())


def test_known_secrets_url_credentials_and_bearer_values_are_redacted():
    def emit(log):
        log.warning("calling %s with key %s", f"http://user:{URL_PASSWORD}@h/v1", SECRETS["UPSTREAM_KEY"])
        log.warning("header Authorization: Bearer sk-client-full-key-123")

    text = formatted("semgate.test.secrets", emit, secrets=[SECRETS["UPSTREAM_KEY"]])
    assert_clean_log(text)
    assert "sk-client-full-key-123" not in text
    assert text.count(REDACTED) == 3


def send_raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


@pytest.fixture
def hostile_gateway(gateway_process, monkeypatch):  # noqa: F811
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    # A keyed upstream, and one behind credentials in its URL that is down: the gateway logs its address.
    extra = f"""  - name: keyed
    base_url: http://127.0.0.1:9/v1
    api_key_env: UPSTREAM_KEY
  - name: behind-credentials
    base_url: http://operator:{URL_PASSWORD}@127.0.0.1:9/v1
tenants:
  - {{name: acme, api_key_env: ACME_KEY}}
"""
    return gateway_process(extra, log_level="debug")


def test_a_gateway_under_hostile_input_logs_nothing_raw_and_no_secret(hostile_gateway):
    url, tenant = hostile_gateway.url, {"authorization": f"Bearer {SECRETS['ACME_KEY']}"}
    answers = []
    with httpx.Client(base_url=url, timeout=10) as client:
        answers.append(client.post("/v1/chat/completions", headers=tenant,
                                   json={"model": HOSTILE, "messages": [{"role": "user", "content": HOSTILE}]}))
        answers.append(client.post("/v1/chat/completions", headers=tenant,
                                   json={"model": "echo-1", "messages": [{"role": HOSTILE, "content": "x"}]}))
        answers.append(client.post("/v1/completions", headers={"authorization": f"Bearer {SECRETS['ACME_KEY']}x"},
                                   json={"model": "echo-1", "prompt": "x"}))
        answers.append(client.get("/admin/v1/config", headers={"authorization": "Bearer " + HOSTILE.replace("\n", "")[:40]}))
        answers.append(client.get("/admin/v1/entries", headers=tenant))
        config_view = client.get("/admin/v1/config", headers={"authorization": f"Bearer {SECRETS['SEMGATE_ADMIN_TOKEN']}"})
        health = client.get("/healthz")
    assert config_view.status_code == 200
    assert health.status_code == 200 and "@127.0.0.1:9" in health.text  # the server is named, its credentials are not
    assert URL_PASSWORD not in health.text and "operator" not in health.text
    assert [a.status_code for a in answers] == [404, 400, 401, 401, 403]
    for raw in (b"GET /v1/%0A" + FORGED.replace(" ", "%20").encode() + b"%1b[31m HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer " + SECRETS["ACME_KEY"].encode() + b"\r\nConnection: close\r\n\r\n",
                b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Evil: a\x1b[2Jb\r\nConnection: close\r\n\r\n",
                b"\x1b[31mGARBAGE\r\n\r\n"):
        assert send_raw(url, raw).startswith(b"HTTP/1.1 4")  # a 4xx, even to garbage
    for answer in (*answers, config_view):
        for secret in (*SECRETS.values(), URL_PASSWORD):
            assert secret not in answer.text
    assert "operator" not in config_view.text  # the URL's user name goes with its password
    log = hostile_gateway.log()
    assert "could not list models" in log  # the down upstream's address was logged, without its credentials
    assert_clean_log(log)


def test_an_upstream_that_quotes_our_key_back_does_not_leak_it_to_the_client(serve, monkeypatch):
    async def refuse(request: Request) -> JSONResponse:
        sent = request.headers.get("authorization", "")
        return JSONResponse({"error": {"message": f"Key rejected: {sent}", "type": "auth", "code": "bad_key"}}, 401)

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "leaky-1", "object": "model"}]})

    leaky = serve(Starlette(routes=[Route("/v1/chat/completions", refuse, methods=["POST"]),
                                    Route("/v1/models", models)]))
    monkeypatch.setenv("UPSTREAM_KEY", SECRETS["UPSTREAM_KEY"])
    config = parse_config(f"""
backend: {{enabled: false}}
cache: {{enabled: false}}
upstreams: [{{name: leaky, base_url: "{leaky.url}/v1", models: [leaky-1], api_key_env: UPSTREAM_KEY, retries: 0}}]
""", "leaky.yaml")
    url = serve(build_app(config)).url
    response = httpx.post(f"{url}/v1/chat/completions",
                          json={"model": "leaky-1", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 401 and response.json()["error"]["code"] == "bad_key"
    assert SECRETS["UPSTREAM_KEY"] not in response.text and REDACTED in response.text


def test_an_upstream_stream_that_quotes_our_key_back_does_not_leak_it(serve, monkeypatch):
    key = SECRETS["UPSTREAM_KEY"]

    async def stream(request: Request) -> StreamingResponse:
        sent = request.headers.get("authorization", "")
        quoted = orjson.dumps({"error": {"message": f"Key {sent} ran out of quota", "type": "quota"}})
        chunk = b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"leaky-1",' \
                b'"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}\n\n'
        event = b"data: " + quoted + b"\n\n"
        cut = event.index(key.encode()) + 5  # the key split across two writes

        async def body():
            yield chunk
            yield event[:cut]
            await asyncio.sleep(0.05)
            yield event[cut:]

        return StreamingResponse(body(), media_type="text/event-stream")

    async def models(request: Request) -> JSONResponse:
        return JSONResponse({"object": "list", "data": [{"id": "leaky-1", "object": "model"}]})

    leaky = serve(Starlette(routes=[Route("/v1/chat/completions", stream, methods=["POST"]),
                                    Route("/v1/models", models)]))
    monkeypatch.setenv("UPSTREAM_KEY", key)
    config = parse_config(f"""
backend: {{enabled: false}}
cache: {{enabled: false}}
upstreams: [{{name: leaky, base_url: "{leaky.url}/v1", models: [leaky-1], api_key_env: UPSTREAM_KEY, retries: 0}}]
""", "leaky.yaml")
    url = serve(build_app(config)).url
    with httpx.stream("POST", f"{url}/v1/chat/completions",
                      json={"model": "leaky-1", "stream": True, "messages": [{"role": "user", "content": "hi"}]}) as response:
        text = b"".join(response.iter_raw()).decode()
    assert response.status_code == 200 and '"content":"Hel"' in text
    assert key not in text and f"Key Bearer {REDACTED} ran out of quota" in text


def test_debug_logging_never_writes_prompts_or_answers(gateway_process):  # noqa: F811
    """aiosqlite logs every statement with its parameters at debug level: the gateway's handler drops
    the debug records of libraries, so a cached question and its answer stay out of the log."""
    gateway = gateway_process(log_level="debug", cache=True)
    question = "What is the private matter zq7-marker-31 about?"
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        for _ in range(2):  # a miss that is stored, then a hit
            answer = client.post("/v1/chat/completions", json={"model": "echo-1",
                                                                "messages": [{"role": "user", "content": question}]})
            assert answer.status_code == 200
    assert answer.headers["x-semgate-cache"] == "hit"
    assert "zq7-marker-31" not in gateway.log()  # neither the prompt nor the answer (which echoes it)
