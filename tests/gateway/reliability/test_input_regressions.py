"""Inputs the fuzzers found that once made the gateway answer 500 (or plain text), pinned here
so they stay fixed whatever the random search draws next time."""

import socket

import httpx
import pytest
from gateway_setup import gateway_yaml
from loopback import ServerThread

from gateway.app import build_app
from gateway.config import parse_config
from gateway.edge.http_limits import server_options

ADMIN_TOKEN = "regressions-admin-token"


@pytest.fixture
def admin_gateway(echo, tmp_path, monkeypatch, embedding_model):
    monkeypatch.setenv("REGRESSIONS_ADMIN_TOKEN", ADMIN_TOKEN)
    config = parse_config(gateway_yaml(echo.url, "admin: {token_env: REGRESSIONS_ADMIN_TOKEN}",
                                       store=str(tmp_path / "cache.db")), "regressions.yaml")
    with ServerThread(build_app(config, embedding_model), **server_options(config.limits)) as server:
        yield server.url


def admin(url: str, method: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(method, f"{url}/admin/v1{path}", headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
                         timeout=30, **kwargs)


def test_a_message_role_that_is_an_object_is_a_400(admin_gateway):
    for role in ({"a": 1}, ["user"], 7):
        response = httpx.post(f"{admin_gateway}/v1/chat/completions",
                              json={"model": "echo-1", "messages": [{"role": role, "content": "hi"}]})
        assert response.status_code == 400 and response.json()["error"]["param"] == "messages[0].role"


def test_a_text_part_without_string_text_is_a_400_instead_of_upstreams_500(admin_gateway, echo):
    parts = [{"type": "text", "text": ["not", "a", "string"]}]
    response = httpx.post(f"{admin_gateway}/v1/chat/completions",
                          json={"model": "echo-1", "messages": [{"role": "user", "content": parts}]})
    assert response.status_code == 400 and response.json()["error"]["param"] == "messages[0].content"
    assert echo.stats.requests == 0


def test_an_entry_offset_past_64_bits_is_a_400(admin_gateway):
    response = admin(admin_gateway, "GET", "/entries", params={"offset": str(2**70)})
    assert response.status_code == 400 and response.json()["error"]["param"] == "offset"


def test_a_policy_with_a_control_character_is_rejected_at_its_line(admin_gateway):
    text = "categories:\n  - name: default\n    keywords: [a\x9cb]\n"
    checked = admin(admin_gateway, "POST", "/policies/validate", json={"yaml": text})
    assert checked.status_code == 200 and checked.json()["valid"] is False
    assert [(e["line"], e["column"]) for e in checked.json()["errors"]] == [(3, 17)]
    replaced = admin(admin_gateway, "PUT", "/policies", json={"yaml": text})
    assert replaced.status_code == 422 and replaced.json()["error"]["code"] == "invalid_policy"


def test_a_request_the_http_parser_cannot_read_gets_an_openai_shaped_400(admin_gateway):
    host, port = admin_gateway.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"content-type: application/json" in head
    assert httpx.Response(400, content=body).json()["error"]["code"] == "invalid_http_request"
