"""Tenant isolation through real HTTP: a tenant never gets another tenant's answer, exact or semantic,
fresh or stale, and private categories stay with their tenant even when the policy around them
pools everything else. Each test also shows the same request answered from the cache for the
tenant that owns it (or for everyone, in a shared category), so a test that passes is not
passing because nothing is cached at all."""

import re
import time
from pathlib import Path

import httpx
import pytest
from reliability_setup import answer, ask

from policies.loader import parse_policy_text

KEYS = {"alice": "sk-alice", "bob": "sk-bob"}
TENANTS = "tenants: [{name: alice, api_key_env: KEY_ALICE}, {name: bob, api_key_env: KEY_BOB}]"
SHIPPED = Path("config/policies.yaml").read_text()
# The shipped policy with a `defaults:` that pools every category that does not say otherwise.
SHARED_AROUND = re.sub(r"(?m)^  scope: private", "  scope: shared", SHIPPED, count=1)


@pytest.fixture(autouse=True)
def tenant_keys(monkeypatch):
    monkeypatch.setenv("KEY_ALICE", KEYS["alice"])
    monkeypatch.setenv("KEY_BOB", KEYS["bob"])


@pytest.fixture
def gateway_with(start_gateway, tmp_path):
    """gateway_with(policy_text=None) -> URL of a gateway with tenants alice and bob."""

    def start(policy_text: str | None = None, **options) -> str:
        path = Path("config/policies.yaml")
        if policy_text is not None:
            path = tmp_path / "policies.yaml"
            path.write_text(policy_text)
        return start_gateway(policies=path, extra=TENANTS, **options)[0]

    return start


def test_exact_and_semantic_hits_stay_with_their_tenant(gateway_with, upstream):
    url = gateway_with()
    exact, original, paraphrase = ("Explain the difference between TCP and UDP", "How can I reverse a list in Python?",
                                   "how do I reverse a python list")
    ask(url, exact, key=KEYS["alice"])
    ask(url, original, key=KEYS["alice"])
    assert ask(url, paraphrase, key=KEYS["bob"]).headers["x-semgate-cache"] == "miss"
    assert ask(url, exact, key=KEYS["bob"]).headers["x-semgate-cache"] == "miss"
    assert upstream.requests == 4
    # The same requests are hits for the tenant who asked first: the cache did work.
    semantic = ask(url, paraphrase, key=KEYS["alice"])
    assert semantic.headers["x-semgate-cache"] == "hit" and answer(semantic) == f"Echo: {original}"
    assert ask(url, exact, key=KEYS["alice"]).headers["x-semgate-cache"] == "hit"


def test_another_tenants_recent_text_does_not_make_a_lookup_faster(start_gateway, upstream):
    """A shared embedding LRU answered a repeat of another tenant's text without the model (about twice
    as fast), so a tenant could tell what others had just asked. Each tenant's lookups now come from
    vectors of its own requests only: bob's lookup of alice's text runs the model again."""
    url, app = start_gateway(extra=TENANTS)
    embedder = app.state.cache.layer.cache.embedder
    secret, no_store = "Is the Acme merger announced on Friday?", {"cache-control": "no-store"}
    assert ask(url, secret, key=KEYS["alice"], headers=no_store).status_code == 200
    encoded, reused = embedder.stats.texts_encoded, embedder.stats.lru_hits
    assert ask(url, secret, key=KEYS["alice"], headers=no_store).status_code == 200
    assert (embedder.stats.texts_encoded, embedder.stats.lru_hits) == (encoded, reused + 1)  # alice's own repeat
    assert ask(url, secret, key=KEYS["bob"], headers=no_store).status_code == 200
    assert (embedder.stats.texts_encoded, embedder.stats.lru_hits) == (encoded + 1, reused + 1)


def test_streams_and_stale_answers_stay_with_their_tenant(gateway_with, upstream):
    policy = SHIPPED.replace("  stale_if_error_s: 0 ", "  stale_if_error_s: 600 ", 1)
    url = gateway_with(policy)
    question = "What is the boiling point of water at sea level?"
    ask(url, question, key=KEYS["alice"], headers={"x-semgate-ttl": "0.3"})
    streamed = ask(url, question, key=KEYS["bob"], stream=True)
    assert streamed.headers["x-semgate-cache"] == "miss"
    ask(url, "Tell me about the Eiffel tower", key=KEYS["alice"], headers={"x-semgate-ttl": "0.3"})
    time.sleep(0.4)
    upstream.stop()
    assert ask(url, "Tell me about the Eiffel tower", key=KEYS["alice"]).headers["x-semgate-cache"] == "stale"
    refused = ask(url, "Tell me about the Eiffel tower", key=KEYS["bob"])
    assert refused.status_code == 502 and "Eiffel" not in refused.text


def test_personal_categories_stay_private_when_the_policy_pools_everything_else(gateway_with, upstream):
    policy = parse_policy_text(SHARED_AROUND)
    assert policy.get("code").is_shared  # the misconfiguration took effect around them...
    assert not policy.get("personal").is_shared and not policy.get("conversation").is_shared  # ...not on them
    url = gateway_with(SHARED_AROUND)
    shared = "How do I sort a dictionary by value in Python?"
    first = ask(url, shared, key=KEYS["alice"])
    assert first.headers["x-semgate-category"] == "code"
    assert ask(url, shared, key=KEYS["bob"]).headers["x-semgate-cache"] == "hit"  # pooled, as configured
    for question, category in (("why hasn't my refund shown up yet", "personal"), ("hello there!", "conversation")):
        mine = ask(url, question, key=KEYS["alice"])
        assert mine.headers["x-semgate-category"] == category
        assert ask(url, question, key=KEYS["alice"]).headers["x-semgate-cache"] == "hit"
        assert ask(url, question, key=KEYS["bob"]).headers["x-semgate-cache"] == "miss"


def test_a_policy_that_shares_a_personal_category_is_refused_and_the_old_one_stays(gateway_with, upstream,
                                                                                     monkeypatch):
    monkeypatch.setenv("SEMGATE_ADMIN_TOKEN", "admin-t")
    url = gateway_with()
    admin = {"authorization": "Bearer admin-t"}
    bad = SHIPPED.replace("    personal: true        # always tenant-private, whatever `scope` says",
                          "    personal: true\n    scope: shared", 1)
    assert bad != SHIPPED
    response = httpx.put(f"{url}/admin/v1/policies", json={"yaml": bad}, headers=admin)
    assert response.status_code == 422
    issues = response.json()["error"]["issues"]
    assert any(i["path"] == "categories.personal.scope" and i["line"] for i in issues)
    ask(url, "why hasn't my refund shown up yet", key=KEYS["alice"])
    assert ask(url, "why hasn't my refund shown up yet", key=KEYS["bob"]).headers["x-semgate-cache"] == "miss"
