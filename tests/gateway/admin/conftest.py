"""Gateways with the admin API on, in front of the echo upstream, and a client for /admin/v1.

The policy is a small one written here (three categories, no verifier), so categories and
hits are predictable and a gateway starts in well under a second.
"""

from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.app import build_app
from gateway.config import parse_config

from admin_keys import ACME_KEY, ADMIN_TOKEN, GLOBEX_KEY, POLICY, UPSTREAM_KEY


@dataclass
class Gateway:
    url: str
    policy_path: Path

    def admin(self, method: str, path: str, token: str | None = ADMIN_TOKEN, **kwargs) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, f"{self.url}/admin/v1{path}", headers=headers, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> dict:
        response = self.admin(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def ask(self, content: str, key: str = ACME_KEY, **body) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/chat/completions", headers={"authorization": f"Bearer {key}"},
                          json={"model": "echo-1", "messages": [{"role": "user", "content": content}], **body},
                          timeout=30)


def admin_yaml(upstream_url: str, store: str | None, policies: Path) -> str:
    cache = f"{{enabled: true, store: '{store}', policies: '{policies}'}}" if store else "{enabled: false}"
    return f"""
listen: 127.0.0.1:8080
backend: {{enabled: false}}
cache: {cache}
admin: {{token_env: SEMGATE_TEST_ADMIN_TOKEN}}
upstreams:
  - name: echo
    base_url: {upstream_url}/v1
    models: [echo-1]
    api_key_env: SEMGATE_TEST_UPSTREAM_KEY
    timeouts: {{connect_s: 1, read_s: 5}}
    retries: 0
tenants:
  - name: acme
    api_key_env: SEMGATE_TEST_ACME_KEY
  - name: globex
    api_key_env: SEMGATE_TEST_GLOBEX_KEY
"""


@pytest.fixture
def secrets_env(monkeypatch):
    monkeypatch.setenv("SEMGATE_TEST_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv("SEMGATE_TEST_ACME_KEY", ACME_KEY)
    monkeypatch.setenv("SEMGATE_TEST_GLOBEX_KEY", GLOBEX_KEY)
    monkeypatch.setenv("SEMGATE_TEST_UPSTREAM_KEY", UPSTREAM_KEY)


@pytest.fixture
def policy_file(tmp_path) -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(POLICY)
    return path


@pytest.fixture
def start_gateway(serve, echo, tmp_path, policy_file, secrets_env, request):
    """start(cache=True) -> Gateway; the cache one shares the session's embedding model."""

    def start(cache: bool = True) -> Gateway:
        store = str(tmp_path / "cache.db") if cache else None
        config = parse_config(admin_yaml(echo.url, store, policy_file), "admin-test.yaml")
        model = request.getfixturevalue("embedding_model") if cache else None
        return Gateway(serve(build_app(config, model)).url, policy_file)

    return start


@pytest.fixture
def gateway_plain(start_gateway) -> Gateway:
    """Admin API on, cache off."""
    return start_gateway(cache=False)


@pytest.fixture
def gateway_cached(start_gateway) -> Gateway:
    """Admin API on, cache on (small policy, empty store)."""
    return start_gateway(cache=True)
