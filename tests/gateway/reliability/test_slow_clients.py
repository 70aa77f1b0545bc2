"""Clients that never finish their request (slowloris): a half-sent head, a head dribbled a byte
at a time, a body that stops, a connection that sends nothing. Each is answered 408 in the OpenAI
error shape and closed once `limits.header_timeout_s` / `limits.body_timeout_s` have passed,
and the gateway keeps serving everyone else meanwhile."""

import socket
import time

import httpx
import orjson
import pytest
from gateway_setup import gateway_yaml
from loopback import ServerThread

from gateway.app import build_app
from gateway.config import parse_config
from gateway.edge.http_limits import server_options

HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\ncontent-type: application/json\r\n"


@pytest.fixture
def strict_server(echo):
    config = parse_config(gateway_yaml(echo.url, "limits: {header_timeout_s: 0.5, body_timeout_s: 0.5}"), "t.yaml")
    with ServerThread(build_app(config), **server_options(config.limits)) as server:
        yield server


def answer_to(server, send) -> bytes:
    """What the server sends back (until it closes) while `send(sock)` plays the slow client.
    A server that never closes the connection fails the test at the socket's timeout."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        send(sock)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def assert_408(received: bytes, what: str) -> None:
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), received
    error = orjson.loads(body)["error"]
    assert error["code"] == "request_timeout" and what in error["message"]


def test_a_half_sent_head_is_closed_with_408(strict_server):
    assert_408(answer_to(strict_server, lambda s: s.sendall(HEAD)), "request headers")


def test_a_connection_that_sends_nothing_is_closed_with_408(strict_server):
    assert_408(answer_to(strict_server, lambda s: None), "request headers")


def test_a_head_dribbled_byte_by_byte_is_closed_though_bytes_keep_coming(strict_server):
    def dribble(sock):
        for byte in HEAD[:20]:
            try:
                sock.sendall(bytes([byte]))
            except OSError:  # closed on us: what the test wants
                return
            time.sleep(0.1)

    assert_408(answer_to(strict_server, dribble), "request headers")


def test_a_body_that_stops_is_closed_with_408(strict_server, echo):
    def stop_halfway(sock):
        sock.sendall(HEAD + b"content-length: 100\r\n\r\n" + b'{"model": "echo-1"')

    assert_408(answer_to(strict_server, stop_halfway), "request body")
    assert echo.stats.requests == 0


def test_others_are_served_while_slow_clients_hang_on(strict_server):
    idle = [socket.create_connection(("127.0.0.1", strict_server.port)) for _ in range(50)]
    for sock in idle:
        sock.sendall(HEAD)
    try:
        response = httpx.post(f"{strict_server.url}/v1/chat/completions",
                              json={"model": "echo-1", "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 200
        for sock in idle:  # every one of them is closed by the server
            sock.settimeout(10)
            while sock.recv(65536):
                pass
    finally:
        for sock in idle:
            sock.close()


def test_a_kept_alive_connection_has_the_whole_timeout_for_each_new_head(strict_server):
    with httpx.Client(base_url=strict_server.url) as client:
        body = {"model": "echo-1", "messages": [{"role": "user", "content": "hi"}]}
        for _ in range(3):
            assert client.post("/v1/chat/completions", json=body).status_code == 200
            time.sleep(0.8)  # idle past header_timeout_s but within the keep-alive timeout: no slow head


def test_bad_timeouts_are_a_config_error():
    from gateway.config import ConfigError

    with pytest.raises(ConfigError, match="limits.header_timeout_s"):
        parse_config("limits: {header_timeout_s: 0}")
