"""Requests that once got through, or got a plain-text 500: deep JSON, an unexpected exception,
doubled or padded Authorization headers, and the smaller things a client or operator noticed
(405 without Allow, an integral float refused, /healthz saying ok while the store cannot write)."""

import httpx
import pytest
from gateway_setup import gateway_yaml
from reliability_setup import ask

from gateway.app import build_app
from gateway.config import parse_config

KEY = "sk-acme-strict-4d2e"
CHAT = {"model": "echo-1", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def keyed(serve, echo, monkeypatch):
    monkeypatch.setenv("ACME_KEY", KEY)
    monkeypatch.setenv("STRICT_ADMIN", "admin-strict-token")
    config = parse_config(gateway_yaml(echo.url, "tenants: [{name: acme, api_key_env: ACME_KEY}]\n"
                                                 "admin: {token_env: STRICT_ADMIN}"), "t.yaml")
    return serve(build_app(config)).url


def nested(depth: int) -> bytes:
    return (b'{"model": "echo-1", "messages": [{"role": "user", "content": "hi"}], "metadata": '
            + b'{"a": ' * depth + b"1" + b"}" * depth + b"}")


@pytest.mark.parametrize("depth", [255, 600, 1020])
def test_deep_json_is_a_400_and_the_connection_keeps_serving(gateway, echo, depth):
    with httpx.Client(base_url=gateway) as client:
        response = client.post("/v1/chat/completions", content=nested(depth),
                               headers={"content-type": "application/json"})
        assert response.status_code == 400 and response.json()["error"]["code"] == "json_too_deep"
        assert client.post("/v1/chat/completions", json=CHAT).status_code == 200  # same keep-alive connection
    assert echo.stats.requests == 1


def test_json_as_deep_as_allowed_passes(gateway):
    assert httpx.post(f"{gateway}/v1/chat/completions", content=nested(60),
                      headers={"content-type": "application/json"}).status_code == 200


def test_any_unexpected_exception_is_an_openai_shaped_500_and_the_connection_survives(gateway, monkeypatch):
    from gateway.edge import wire_adapter  # where the proxy's first step (parsing) is looked up

    def broken(*args, **kwargs):
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(wire_adapter, "parse_request", broken)
    with httpx.Client(base_url=gateway) as client:
        response = client.post("/v1/chat/completions", json=CHAT)
        assert response.status_code == 500 and response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] == "internal_error" and "nobody foresaw" not in response.text
        monkeypatch.undo()
        assert client.post("/v1/chat/completions", json=CHAT).status_code == 200


def test_two_authorization_headers_are_refused_whichever_comes_first(keyed):
    for pair in ([f"Bearer {KEY}", "Bearer wrong"], ["Bearer wrong", f"Bearer {KEY}"], [f"Bearer {KEY}"] * 2):
        headers = [("authorization", value) for value in pair]
        response = httpx.post(f"{keyed}/v1/chat/completions", json=CHAT, headers=headers)
        assert response.status_code == 401 and "one Authorization header" in response.json()["error"]["message"]
    assert httpx.post(f"{keyed}/v1/chat/completions", json=CHAT,
                      headers={"authorization": f"Bearer {KEY}"}).status_code == 200


@pytest.mark.parametrize("value", [f"Bearer {KEY}\u00a0", f"Bearer \u00a0{KEY}", f"Bearer  {KEY}", f"Bearer\t{KEY}",
                                   f"bearer{KEY}", f"Basic {KEY}"])
def test_a_padded_or_malformed_key_is_refused(keyed, value):
    # Latin-1, as HTTP carries header bytes: the non-breaking space arrives as the one byte 0xA0.
    response = httpx.post(f"{keyed}/v1/chat/completions", json=CHAT,
                          headers={"authorization": value.encode("latin-1")})
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"


def test_the_admin_token_is_parsed_as_strictly(keyed):
    url = f"{keyed}/admin/v1/config"
    assert httpx.get(url, headers={"authorization": "Bearer admin-strict-token"}).status_code == 200
    padded = httpx.get(url, headers={"authorization": "Bearer admin-strict-token\u00a0".encode("latin-1")})
    assert padded.status_code == 401
    doubled = [("authorization", "Bearer admin-strict-token"), ("authorization", "Bearer x")]
    assert httpx.get(url, headers=doubled).status_code == 401


def test_a_405_names_the_allowed_methods(gateway):
    response = httpx.get(f"{gateway}/v1/chat/completions")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"]["message"]


def test_an_integral_float_max_tokens_is_accepted_as_the_schema_says_and_sent_as_an_integer(gateway, echo):
    response = httpx.post(f"{gateway}/v1/chat/completions", json={**CHAT, "max_tokens": 1.0})
    assert response.status_code == 200, response.text
    assert echo.last_body["max_tokens"] == 1 and isinstance(echo.last_body["max_tokens"], int)
    schema = httpx.get(f"{gateway}/v1/openapi.json").json()
    request = schema["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert request["properties"]["max_tokens"]["type"] == "integer"  # JSON Schema: 1.0 is an integer
    for value in (1.5, 1e300):  # a fraction, or a float too large to stand for one integer
        refused = httpx.post(f"{gateway}/v1/chat/completions", json={**CHAT, "seed": value})
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "seed"


def test_healthz_says_degraded_while_the_store_cannot_take_writes(start_gateway, upstream):
    url, app = start_gateway(cache="store_max_bytes: 196608")
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
    for i in range(40):
        question = f"Question {i}: " + " ".join(f"word{i}x{j}" for j in range(400))
        if ask(url, question, max_tokens=1000).headers["x-semgate-cache"] == "store-skipped":
            break
    else:
        pytest.fail("the store never filled up")
    health = httpx.get(f"{url}/healthz")
    assert health.status_code == 200  # still serving (hits, and misses upstream): a load balancer keeps it
    assert health.json()["status"] == "degraded" and health.json()["store"] == "degraded (full)"
