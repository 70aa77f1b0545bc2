"""Category, SLO and tenant hints through real HTTP: an upstream marked `semgate_headers` (the
bundled backend) receives them (the tenant also as the prefix-cache salt, so tenants never share
KV), a client's own SLO headers override the category's field by field, and any other upstream
(a hosted API) sees none of them, whatever the client sent."""

import httpx
import pytest

from gateway.app import build_app
from gateway.config import parse_config
from loadtest.echo_upstream import EchoSettings, EchoUpstream
from gateway_setup import gateway_head

WEATHER = "what's the weather like in Chicago today"  # time_sensitive by rule: slo_class interactive
CODE = "how do I fix this TypeError in my python script"  # code by rule: slo_class standard
CLIENT_TRIES = {"x-semgate-tenant": "someone-else", "x-semgate-category": "finance", "x-semgate-kv-salt": "mine"}


def gateway_config(own_url: str, hosted_url: str, store: str | None) -> str:
    return gateway_head(store) + f"""tenants:
  - {{name: acme, api_key_env: HINTS_KEY_ACME}}
  - {{name: "Café Ünïcode 100%", api_key_env: HINTS_KEY_CAFE}}
upstreams:
  - {{name: own, base_url: '{own_url}/v1', models: [echo-1], semgate_headers: true}}
  - {{name: hosted, base_url: '{hosted_url}/v1', models: [echo-2]}}
"""


@pytest.fixture
def upstreams(serve):
    """(own, hosted): recording echo upstreams serving echo-1 and echo-2."""
    pair = []
    for model in ("echo-1", "echo-2"):
        upstream = EchoUpstream(EchoSettings(models=(model,)))
        upstream.url = serve(upstream.app).url
        pair.append(upstream)
    return tuple(pair)


@pytest.fixture
def start(serve, upstreams, embedding_model, tmp_path, monkeypatch):
    """start(cache=True) -> the gateway's base URL, in front of both upstreams."""
    monkeypatch.setenv("HINTS_KEY_ACME", "sk-acme")
    monkeypatch.setenv("HINTS_KEY_CAFE", "sk-cafe")
    own, hosted = upstreams

    def _start(cache: bool = True) -> str:
        store = str(tmp_path / "cache.db") if cache else None
        config = parse_config(gateway_config(own.url, hosted.url, store), "hints.yaml")
        return serve(build_app(config, embedding_model if cache else None)).url

    return _start


def ask(url: str, question: str, model: str = "echo-1", key: str = "sk-acme", headers: dict | None = None,
        stream: bool = False) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": question}], "stream": stream}
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30,
                      headers={"authorization": f"Bearer {key}", **(headers or {})})


def semgate_headers(upstream: EchoUpstream) -> dict[str, str]:
    return {k: v for k, v in upstream.last_headers.items() if k.startswith("x-semgate-")}


def test_the_own_backend_gets_the_category_its_slo_class_and_the_tenant(start, upstreams):
    own, _ = upstreams
    url = start()
    weather = ask(url, WEATHER)
    assert weather.status_code == 200 and weather.headers["x-semgate-category"] == "time_sensitive"
    assert semgate_headers(own) == {"x-semgate-category": "time_sensitive", "x-semgate-tenant": "acme",
                                    "x-semgate-kv-salt": "acme",
                                    "x-semgate-slo-ttft-ms": "1000", "x-semgate-slo-tpot-ms": "200"}
    code = ask(url, CODE, stream=True)  # a streamed miss goes out the same way
    assert code.status_code == 200 and code.headers["x-semgate-category"] == "code"
    assert semgate_headers(own) == {"x-semgate-category": "code", "x-semgate-tenant": "acme",
                                    "x-semgate-kv-salt": "acme",
                                    "x-semgate-slo-ttft-ms": "3000", "x-semgate-slo-tpot-ms": "500"}


def test_client_slo_headers_override_field_by_field_and_nothing_else_is_theirs_to_set(start, upstreams):
    own, _ = upstreams
    url = start()
    response = ask(url, WEATHER, headers={"x-semgate-slo-ttft-ms": "250", "x-semgate-slo-deadline-ms": "9000.5",
                                          "x-semgate-slo-tpot-ms": "", **CLIENT_TRIES})
    assert response.status_code == 200
    assert semgate_headers(own) == {"x-semgate-category": "time_sensitive", "x-semgate-tenant": "acme",
                                    "x-semgate-kv-salt": "acme",
                                    "x-semgate-slo-ttft-ms": "250", "x-semgate-slo-tpot-ms": "200",
                                    "x-semgate-slo-deadline-ms": "9000.5"}


@pytest.mark.parametrize("header,value", [("x-semgate-slo-ttft-ms", "soon"), ("x-semgate-slo-tpot-ms", "0"),
                                          ("x-semgate-slo-deadline-ms", "-100"), ("x-semgate-slo-ttft-ms", "nan"),
                                          ("x-semgate-slo-tpot-ms", "inf")])
def test_a_malformed_client_slo_header_is_an_openai_400_that_changes_nothing(start, upstreams, header, value):
    own, _ = upstreams
    url = start()
    refused = ask(url, WEATHER, headers={header: value})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", header, "invalid_slo_header")
    assert own.stats.requests == 0
    assert ask(url, WEATHER).headers["x-semgate-cache"] == "miss"  # nothing was stored for it either
    assert own.stats.requests == 1


def test_a_plain_upstream_never_sees_a_semgate_header(start, upstreams):
    own, hosted = upstreams
    url = start()
    response = ask(url, WEATHER, model="echo-2", key="sk-cafe",
                   headers={"x-semgate-slo-ttft-ms": "250", **CLIENT_TRIES})
    assert response.status_code == 200 and response.headers["x-semgate-category"] == "time_sensitive"
    assert hosted.stats.requests == 1 and own.stats.requests == 0
    assert semgate_headers(hosted) == {}
    assert not any("acme" in v or "Caf" in v for v in hosted.last_headers.values())  # no tenant name, anywhere


def test_with_the_cache_off_the_tenant_and_the_clients_slo_still_go(start, upstreams):
    own, _ = upstreams
    url = start(cache=False)
    response = ask(url, WEATHER, key="sk-cafe", headers={"x-semgate-slo-tpot-ms": "120"})
    assert response.status_code == 200 and response.headers["x-semgate-cache"] == "bypass"
    # No category without the classifier; a tenant name a header cannot carry is percent-encoded (UTF-8).
    cafe = "Caf%C3%A9%20%C3%9Cn%C3%AFcode%20100%25"
    assert semgate_headers(own) == {"x-semgate-tenant": cafe, "x-semgate-kv-salt": cafe, "x-semgate-slo-tpot-ms": "120"}
