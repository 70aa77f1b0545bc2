"""Stale-if-error: while the upstream fails, an expired entry answers where its category allows it,
flagged in headers; everywhere else the client gets the upstream's error."""

import time

import httpx
import openai
import pytest
from reliability_setup import answer, ask

POLICIES = """
defaults:
  ttl_seconds: 3600
  stale_if_error_s: 60
  similarity_threshold: 0.66
  verifier_threshold: 0.77  # the shipped default category's (config/policies.yaml)
  adaptive: {min_similarity: 0.57, min_verifier: 0.74}
categories:
  - name: account
    personal: true
    keywords: [account]
    stale_if_error_s: 0
  - name: brief
    keywords: [brief]
    stale_if_error_s: 1
  - name: default
"""
EXPIRES_NOW = {"x-semgate-ttl": "0.5"}  # the answer is stored with a TTL of half a second


@pytest.fixture
def gateway(start_gateway, tmp_path):
    path = tmp_path / "policies.yaml"
    path.write_text(POLICIES)
    return start_gateway(policies=path, breaker="{failures: 2, cooldown_s: 2}", read_s=0.5)[0]


def expired(url: str, question: str) -> str:
    """Store an answer to `question` that expires at once; returns it."""
    first = ask(url, question, headers=EXPIRES_NOW)
    assert first.headers["x-semgate-cache"] == "miss"
    time.sleep(0.6)
    return answer(first)


def assert_stale(response: httpx.Response, expected: str, reason: str) -> None:
    assert response.headers["x-semgate-cache"] == "stale", response.text
    assert answer(response) == expected
    assert 0 <= int(response.headers["x-semgate-stale-age"]) < 5
    assert response.headers["x-semgate-stale-reason"] == reason
    assert response.headers["x-semgate-entry"]


def test_expired_entry_answers_while_the_upstream_is_down_and_not_once_it_is_back(gateway, upstream):
    question = "How can I reverse a list in Python?"
    cached = expired(gateway, question)
    upstream.stop()
    assert_stale(ask(gateway, question), cached, "upstream_unreachable")
    # Paraphrases find it through the index as well.
    assert_stale(ask(gateway, "how do I reverse a python list"), cached, "upstream_unreachable")
    upstream.start()
    # Two failures opened the circuit: until its cool-down ends the entry still stands in.
    assert_stale(ask(gateway, question), cached, "upstream_circuit_open")
    time.sleep(2.1)
    fresh = ask(gateway, question)
    assert fresh.headers["x-semgate-cache"] == "miss"  # a working upstream answers; the entry is renewed
    assert ask(gateway, question).headers["x-semgate-cache"] == "hit"


@pytest.mark.parametrize("fault, reason", [("500", "upstream_500"), ("503", "upstream_503"),
                                           ("429", "upstream_429"), ("stall", "upstream_timeout")])
def test_5xx_429_and_timeouts_are_covered(gateway, upstream, fault, reason):
    question = "Who wrote Pride and Prejudice?"
    cached = expired(gateway, question)
    upstream.control(fault=fault, fault_count=1)
    response = ask(gateway, question)
    assert_stale(response, cached, reason)


def test_open_circuit_and_streams_are_covered(gateway, upstream):
    question = "How does a refrigerator work?"
    cached = expired(gateway, question)
    upstream.control(fault="500")
    ask(gateway, "something else entirely")
    ask(gateway, "and another thing")  # two failures: the circuit is open
    assert_stale(ask(gateway, question), cached, "upstream_circuit_open")
    client = openai.OpenAI(base_url=f"{gateway}/v1", api_key="unused", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="echo-1", messages=[{"role": "user", "content": question}], stream=True)
    assert raw.headers["x-semgate-cache"] == "stale"
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices) == cached


def test_a_category_without_stale_if_error_gets_the_error(gateway, upstream):
    question = "What is my account balance?"
    expired(gateway, question)
    upstream.stop()
    response = ask(gateway, question)
    assert response.status_code == 502 and response.headers["x-semgate-category"] == "account"
    assert response.json()["error"]["code"] == "upstream_unreachable"


def test_past_the_grace_the_entry_answers_no_more(gateway, upstream):
    question = "Give me a brief history of Rome"
    cached = expired(gateway, question)
    upstream.stop()
    assert_stale(ask(gateway, question), cached, "upstream_unreachable")
    time.sleep(1.0)  # the category's stale_if_error_s is 1
    assert ask(gateway, question).status_code == 502


def test_client_errors_and_no_cache_are_never_covered(gateway, upstream):
    question = "Why is the sky blue?"
    expired(gateway, question)
    upstream.control(models=["another-model"])  # the upstream now answers 404 model_not_found
    assert ask(gateway, question).status_code == 404
    upstream.control(models=["echo-1"], fault="500")
    assert ask(gateway, question, headers={"cache-control": "no-cache"}).status_code == 500


async def test_expired_entries_are_kept_for_the_longest_grace_and_then_purged(tmp_path, embedding_model):
    from gateway.cache.embedder import Embedder
    from gateway.cache.semantic_cache import SemanticCache
    from gateway.cache.sqlite_store import SqliteStore
    from gateway.cache.verifier import Verifier
    from gateway.cache.service import stale_grace
    from policies.loader import load_policy_file, parse_policy_text
    from policies.schema import CategoryPolicy

    assert stale_grace(parse_policy_text(POLICIES)) == 60
    assert stale_grace(load_policy_file("config/policies.yaml")) == 604800  # general_knowledge and code
    cache = SemanticCache(await SqliteStore.open(tmp_path / "c.db"), Embedder(embedding_model), Verifier.load(),
                          maintenance_interval_s=0, stale_grace_s=0.5)
    try:
        policy = CategoryPolicy(name="default", stale_if_error_s=0.5)
        request = {"messages": [{"role": "user", "content": "What is the tallest mountain?"}]}
        done = {"choices": [{"message": {"role": "assistant", "content": "Everest."}, "finish_reason": "stop"}]}
        await cache.insert("t1", policy, request, done, "m", ttl_override=0.05)
        time.sleep(0.1)
        assert await cache.purge_expired() == 0  # expired, within the grace: kept
        assert (await cache.lookup("t1", policy, request, allow_stale=True, max_stale_s=0.5)).stale
        assert not (await cache.lookup("t1", policy, request, allow_stale=True, max_stale_s=0.01)).hit
        assert not (await cache.lookup("t1", policy, request)).hit
        time.sleep(0.5)
        assert await cache.purge_expired() == 1
    finally:
        await cache.close()
        await cache.embedder.close()


@pytest.fixture
def admin_token(monkeypatch):
    """Set before the gateway starts (listed before it), which reads the token once."""
    monkeypatch.setenv("SEMGATE_ADMIN_TOKEN", "admin-t")


def test_admin_counts_add_up_to_the_requests_stale_answers_included(admin_token, gateway, upstream):
    question = "How do magnets work?"
    cached = expired(gateway, question)  # a miss
    assert ask(gateway, "What is the speed of light?").headers["x-semgate-cache"] == "miss"
    assert ask(gateway, "What is the speed of light?").headers["x-semgate-cache"] == "hit"
    upstream.stop()
    assert_stale(ask(gateway, question), cached, "upstream_unreachable")
    assert ask(gateway, "A question never asked before").status_code == 502
    totals = httpx.get(f"{gateway}/admin/v1/stats", headers={"authorization": "Bearer admin-t"}).json()
    counts = {k: totals[k] for k in ("hits", "stale", "misses", "bypasses", "store_skipped", "errors")}
    assert counts == {"hits": 1, "stale": 1, "misses": 2, "bypasses": 0, "store_skipped": 0, "errors": 1}
    assert sum(counts.values()) == totals["requests"] == 5
