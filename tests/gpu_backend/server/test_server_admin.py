"""The backend's admin API over real HTTP: tenants' accounting (by the x-semgate-tenant header, never
the prefix-cache salt), priorities changed while the engine runs, bearer-token guard, OpenAI-shaped
errors that change nothing."""

import httpx
import pytest
from engine_support import tiny_engine
from loopback import ServerThread

from gpu_backend.engine import AsyncEngine
from gpu_backend.server import BackendService, build_app

TOKEN = "admin-secret"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def serve(smollm2, token: str | None, tenant_header: str | None = "x-semgate-tenant", **config):
    engine = AsyncEngine(tiny_engine(smollm2.tokenizer, **config))
    service = BackendService(engine, smollm2.tokenizer, smollm2.chat_template, ("tiny",), admin_token=token,
                             tenant_header=tenant_header)
    return ServerThread(build_app(service))


@pytest.fixture(scope="module")
def base_url(smollm2):
    with serve(smollm2, TOKEN, fair_share=True) as server:
        yield server.url


def tenants(base_url: str) -> dict[str, dict]:
    response = httpx.get(f"{base_url}/admin/tenants", headers=AUTH)
    assert response.status_code == 200 and response.json()["fair_share"] is True
    return {row["tenant"]: row for row in response.json()["data"]}


def test_a_priority_set_over_http_applies_to_the_running_engine(base_url):
    body = {"model": "tiny", "prompt": "Hello there", "max_tokens": 3, "temperature": 0}
    assert httpx.post(f"{base_url}/v1/completions", json=body, headers={"x-semgate-tenant": "acme"}).status_code == 200
    served = tenants(base_url)["acme"]
    assert served["service"] > 0 and served["weight"] == 1.0 and served["preemptions"] == 0
    response = httpx.post(f"{base_url}/admin/tenants/acme/priority", json={"weight": 4}, headers=AUTH)
    assert response.status_code == 200
    assert response.json()["weight"] == 4.0 and response.json()["share"] == pytest.approx(served["service"] / 4)
    assert tenants(base_url)["acme"]["weight"] == 4.0
    assert httpx.post(f"{base_url}/admin/tenants/newcomer/priority", json={"weight": 0.5},
                      headers=AUTH).json()["service"] == 0.0  # a tenant not seen yet may be weighted ahead


def test_service_goes_to_the_tenant_header_never_to_the_salt_and_tenants_still_share_kv(base_url):
    body = {"model": "tiny", "prompt": "A prompt both tenants send, long enough to fill more than one block of "
            "sixteen tokens so that its prefix is cached.", "max_tokens": 2, "temperature": 0}
    salted = {"x-semgate-tenant": "Caf%C3%A9%20100%25", "x-semgate-kv-salt": "salt-only"}
    assert httpx.post(f"{base_url}/v1/completions", json=body, headers=salted).status_code == 200
    before = tenants(base_url)
    assert before["Café 100%"]["service"] > 0 and "salt-only" not in before  # the name the gateway encoded
    first = httpx.post(f"{base_url}/v1/completions", json=body, headers={"x-semgate-tenant": "globex"}).json()
    second = httpx.post(f"{base_url}/v1/completions", json=body, headers={"x-semgate-tenant": "initech"}).json()
    # No salt: the second tenant reuses the first one's KV, and each is charged for its own request.
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
    after = tenants(base_url)
    assert after["globex"]["service"] > 0 and after["initech"]["service"] > 0
    assert after["Café 100%"]["service"] == before["Café 100%"]["service"] and "salt-only" not in after
    assert first["usage"]["prompt_tokens"] == second["usage"]["prompt_tokens"]


def test_with_the_tenant_header_off_every_request_is_the_one_tenant(smollm2):
    with serve(smollm2, None, tenant_header=None, fair_share=True) as server:
        body = {"model": "tiny", "prompt": "Hello there", "max_tokens": 2, "temperature": 0}
        headers = {"x-semgate-tenant": "acme", "x-semgate-kv-salt": "acme"}
        assert httpx.post(f"{server.url}/v1/completions", json=body, headers=headers).status_code == 200
        rows = httpx.get(f"{server.url}/admin/tenants").json()["data"]
        assert [row["tenant"] for row in rows] == [""] and rows[0]["service"] > 0


@pytest.mark.parametrize("body", [{"weight": 0}, {"weight": -2}, {"weight": "3"}, {"weight": True}, {}, [2],
                                  b'{"weight": 1e999}', b"{not json"])
def test_a_bad_weight_is_a_400_and_changes_nothing(base_url, body):
    httpx.post(f"{base_url}/admin/tenants/steady/priority", json={"weight": 2}, headers=AUTH)
    content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    response = httpx.post(f"{base_url}/admin/tenants/steady/priority", content=content,
                          headers={**AUTH, "content-type": "application/json"})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert tenants(base_url)["steady"]["weight"] == 2.0


def test_the_admin_api_needs_the_token(base_url):
    httpx.post(f"{base_url}/admin/tenants/guarded/priority", json={"weight": 3}, headers=AUTH)
    for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": TOKEN}):
        refused = httpx.post(f"{base_url}/admin/tenants/guarded/priority", json={"weight": 9}, headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] in ("missing_admin_token",
                                                                                "invalid_admin_token")
        assert httpx.get(f"{base_url}/admin/tenants", headers=headers).status_code == 401
    assert tenants(base_url)["guarded"]["weight"] == 3.0


def test_without_a_token_it_is_open_and_without_fair_share_weights_are_refused(smollm2):
    with serve(smollm2, None) as server:
        listing = httpx.get(f"{server.url}/admin/tenants")
        assert listing.status_code == 200 and listing.json() == {"object": "list", "fair_share": False, "data": []}
        refused = httpx.post(f"{server.url}/admin/tenants/acme/priority", json={"weight": 2})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "fair_share_disabled"
