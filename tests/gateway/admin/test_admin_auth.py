"""Who gets into /admin/v1: the admin token only; every route, in the API's error shape."""

import httpx
from admin_keys import ACME_KEY, ADMIN_TOKEN

from gateway.admin.operations import operations

ROUTES = [(op.method, op.path.replace("{entry_id}", "0123abcd")) for op in operations()]


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    error = response.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    assert error["code"] == code
    return error


def test_every_route_needs_the_admin_token(gateway_plain):
    assert len(ROUTES) == 12
    for method, path in ROUTES:
        assert_error(gateway_plain.admin(method, path, token=None), 401, "missing_admin_token")
        assert_error(gateway_plain.admin(method, path, token="not-the-token"), 401, "invalid_admin_token")
        error = assert_error(gateway_plain.admin(method, path, token=ACME_KEY), 403, "tenant_key_not_admin")
        assert error["type"] == "permission_error"


def test_malformed_authorization_is_401(gateway_plain):
    response = httpx.get(f"{gateway_plain.url}/admin/v1/stats", headers={"authorization": f"Basic {ADMIN_TOKEN}"})
    assert_error(response, 401, "invalid_admin_token")


def test_the_admin_token_opens_it(gateway_plain):
    assert gateway_plain.admin("GET", "/stats").status_code == 200


def test_admin_token_is_not_a_tenant_key(gateway_plain):
    response = httpx.post(f"{gateway_plain.url}/v1/chat/completions",
                          headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
                          json={"model": "echo-1", "messages": [{"role": "user", "content": "hi"}]})
    assert response.status_code == 401


def test_without_a_configured_token_the_admin_api_is_disabled(monkeypatch, start_gateway):
    monkeypatch.delenv("SEMGATE_TEST_ADMIN_TOKEN")
    disabled = start_gateway(cache=False)
    for token in (ADMIN_TOKEN, None):
        error = assert_error(disabled.admin("GET", "/stats", token=token), 403, "admin_disabled")
        assert error["message"] == "admin API disabled: set SEMGATE_TEST_ADMIN_TOKEN"


def test_openapi_document_and_dashboard_page_need_no_token(gateway_plain):
    assert httpx.get(f"{gateway_plain.url}/admin/v1/openapi.json").json()["openapi"] == "3.1.0"
    page = httpx.get(f"{gateway_plain.url}/dashboard")
    assert page.status_code == 200 and "semgate" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_unknown_admin_path_is_404_in_the_same_shape(gateway_plain):
    assert_error(gateway_plain.admin("GET", "/nope"), 404, "unknown_url")
