"""The admin API with a tenant's key: every operation answers 403 and no data, whoever's key it is.
The same calls with the admin token do return the data, so the 403s are not an empty cache."""

import httpx
import pytest
from reliability_setup import ask

from gateway.admin.operations import operations
from gateway.admin.routes import PREFIX

SECRET_QUESTION = "What is the PIN code of the vault in building 7?"


@pytest.fixture
def gateway(start_gateway, monkeypatch):
    monkeypatch.setenv("KEY_ALICE", "sk-alice")
    monkeypatch.setenv("KEY_BOB", "sk-bob")
    monkeypatch.setenv("SEMGATE_ADMIN_TOKEN", "admin-t")
    url, _ = start_gateway(extra="tenants: [{name: alice, api_key_env: KEY_ALICE}, {name: bob, api_key_env: KEY_BOB}]")
    assert ask(url, SECRET_QUESTION, key="sk-alice").headers["x-semgate-cache"] == "miss"
    return url


def calls(entry_id: str) -> list[tuple[str, str, dict]]:
    """Every admin operation with arguments that would succeed for the admin."""
    bodies = {"/invalidate": {"tenant": "alice", "dry_run": True}, "/flush": {"confirm": True},
              "/policies/validate": {"yaml": "categories: [{name: default}]"},
              "/policies": {"yaml": "categories: [{name: default}]"}}
    queries = {"/entries/search": {"q": SECRET_QUESTION}, "/entries": {"tenant": "alice"}}
    out = []
    for op in operations():
        path = op.path.replace("{entry_id}", entry_id)
        out.append((op.method, path, {"params": queries.get(op.path),
                                      "json": bodies.get(op.path) if op.body is not None else None}))
    return out


def test_every_admin_operation_refuses_tenant_keys_and_leaks_nothing(gateway):
    admin = {"authorization": "Bearer admin-t"}
    listed = httpx.get(f"{gateway}{PREFIX}/entries", headers=admin).json()["data"]
    assert [e["query_text"] for e in listed] == [SECRET_QUESTION]
    entry_id = listed[0]["id"]
    for key in ("sk-alice", "sk-bob"):
        for method, path, args in calls(entry_id):
            response = httpx.request(method, f"{gateway}{PREFIX}{path}", headers={"authorization": f"Bearer {key}"},
                                     **{k: v for k, v in args.items() if v is not None})
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"]["code"] == "tenant_key_not_admin"
            assert "vault" not in response.text and entry_id not in response.text
    # Nothing was changed by the refused calls; the admin still sees (and may read) the entry.
    detail = httpx.get(f"{gateway}{PREFIX}/entries/{entry_id}", headers=admin)
    assert detail.status_code == 200 and detail.json()["query_text"] == SECRET_QUESTION
    search = httpx.get(f"{gateway}{PREFIX}/entries/search", params={"q": SECRET_QUESTION}, headers=admin)
    assert [e["id"] for e in search.json()["data"]] == [entry_id]


def test_the_openai_routes_show_a_tenant_nothing_of_another(gateway):
    models = httpx.get(f"{gateway}/v1/models", headers={"authorization": "Bearer sk-bob"})
    assert models.status_code == 200 and "alice" not in models.text and "vault" not in models.text
    bob = ask(gateway, SECRET_QUESTION, key="sk-bob")
    assert bob.headers["x-semgate-cache"] == "miss" and "x-semgate-entry" not in bob.headers
