"""Size limits on what one request may be: body, messages, message text, headers.

Each is refused with an OpenAI-shaped error before any work is done (nothing reaches the
upstream), and the gateway goes on serving afterwards. Header limits live in the HTTP
server the CLI starts, so they are tested against a real `semgate gateway` process.
"""

import socket

import httpx
import orjson
import pytest
from gateway_process import gateway_process  # noqa: F401 (fixture)
from gateway_setup import gateway_yaml

from gateway.app import build_app
from gateway.config import parse_config

LIMITS = "limits: {max_body_bytes: 4000, max_messages: 3, max_message_chars: 100, max_header_bytes: 2048, max_header_count: 20}"


def chat(*contents) -> dict:
    return {"model": "echo-1", "messages": [{"role": "user", "content": c} for c in contents]}


def assert_openai_error(response: httpx.Response, status: int, code: str, param: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["code"], error["param"], error["type"]) == (code, param, "invalid_request_error")


@pytest.fixture
def limited(serve, echo):
    return serve(build_app(parse_config(gateway_yaml(echo.url, LIMITS), "t.yaml"))).url


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(limited, echo):
    url = f"{limited}/v1/chat/completions"
    assert_openai_error(httpx.post(url, json=chat("x" * 5000)), 413, "request_too_large")
    declared = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: 999999999\r\nConnection: close\r\n\r\n{}")  # answered without waiting for the body
    status, body = raw_request(limited, declared)
    assert (status, body["error"]["code"]) == (413, "request_too_large")
    streamed = iter([b'{"model": "echo-1", "messages": [', b'{"role": "user", "content": "x"},' * 200, b"]}"])
    assert_openai_error(httpx.post(url, content=streamed), 413, "request_too_large")
    assert echo.stats.requests == 0
    assert httpx.post(url, json=chat("still here")).status_code == 200


def test_too_many_messages_is_413(limited, echo):
    response = httpx.post(f"{limited}/v1/chat/completions", json=chat("a", "b", "c", "d"))
    assert_openai_error(response, 413, "too_many_messages", "messages")
    assert httpx.post(f"{limited}/v1/chat/completions", json=chat("a", "b", "c")).status_code == 200
    assert echo.stats.requests == 1


def test_a_message_or_prompt_over_the_character_limit_is_413(limited, echo):
    url = f"{limited}/v1/chat/completions"
    assert httpx.post(url, json=chat("y" * 100)).status_code == 200
    assert_openai_error(httpx.post(url, json=chat("short", "y" * 101)), 413, "message_too_long", "messages[1].content")
    parts = [{"type": "text", "text": "y" * 60}, {"type": "image_url", "image_url": {"url": "http://x/" + "i" * 200}},
             {"type": "text", "text": "y" * 60}]
    assert_openai_error(httpx.post(url, json=chat(parts)), 413, "message_too_long", "messages[0].content")
    completions = f"{limited}/v1/completions"
    assert_openai_error(httpx.post(completions, json={"model": "echo-1", "prompt": "p" * 101}), 413,
                        "message_too_long", "prompt")
    assert_openai_error(httpx.post(completions, json={"model": "echo-1", "prompt": ["ok", "p" * 101]}), 413,
                        "message_too_long", "prompt[1]")
    assert echo.stats.requests == 1


def raw_request(url: str, request: bytes) -> tuple[int, dict]:
    """Send bytes as they are (httpx would refuse some of these heads) and read the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(request)
        except OSError:
            pass  # the server may close before the whole head is sent: its answer is still readable
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and answer.endswith(b"}"):
                break
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), orjson.loads(rest.partition(b"\r\n\r\n")[2])


def head(path: str = "/v1/models", extra: bytes = b"") -> bytes:
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + b"Connection: close\r\n\r\n"


def test_headers_over_the_byte_or_count_limit_are_431_and_the_gateway_keeps_serving(gateway_process):  # noqa: F811
    gateway = gateway_process(LIMITS, log_level="warning")
    assert raw_request(gateway.url, head(extra=b"X-Ok: " + b"a" * 1000 + b"\r\n"))[0] == 200
    for request in (head(extra=b"X-Big: " + b"a" * 3000 + b"\r\n"),  # one large header
                    head(extra=b"X-Huge: " + b"a" * 5_000_000 + b"\r\n"),  # refused while it is still arriving
                    head(path="/v1/models?q=" + "a" * 3000),  # a long request line
                    head(extra=b"".join(b"X-%d: a\r\n" % i for i in range(25)))):  # too many headers
        status, body = raw_request(gateway.url, request)
        assert status == 431
        assert body["error"]["code"] == "request_headers_too_large"
        assert set(body["error"]) == {"message", "type", "param", "code"}
    assert httpx.get(f"{gateway.url}/v1/models").status_code == 200
