"""GET stats counts what clients saw, slices it by category, tenant and model, and shows the
effective policy, the entries and the memory."""

import httpx
import pytest
from admin_keys import ACME_KEY, GLOBEX_KEY
from gateway_setup import control

PYTHON = "How do I reverse a list in Python?"


def send_mixed_traffic(gateway) -> dict:
    first = gateway.ask(PYTHON)
    assert first.headers["x-semgate-cache"] == "miss"
    assert gateway.ask(PYTHON).headers["x-semgate-cache"] == "hit"
    assert gateway.ask("What is the capital of France?").headers["x-semgate-cache"] == "miss"
    bypass = gateway.ask("What is the capital of Spain?", semgate={"no_cache": True})
    assert bypass.headers["x-semgate-cache"] == "bypass"
    skipped = gateway.ask("What is a javascript closure?", semgate={"no_store": True})
    assert skipped.headers["x-semgate-cache"] == "store-skipped"
    assert gateway.ask(PYTHON, key=GLOBEX_KEY).headers["x-semgate-cache"] == "miss"  # tenants never share
    unknown = httpx.post(f"{gateway.url}/v1/chat/completions", headers={"authorization": f"Bearer {ACME_KEY}"},
                         json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]})
    assert unknown.status_code == 404
    return first.json()["usage"]


def test_stats_count_outcomes_and_slice_them(gateway_cached):
    usage = send_mixed_traffic(gateway_cached)
    s = gateway_cached.ok("GET", "/stats")
    assert (s["requests"], s["hits"], s["misses"], s["bypasses"], s["store_skipped"], s["errors"]) == (7, 1, 3, 1, 1, 1)
    assert s["hit_rate"] == pytest.approx(1 / 7, abs=1e-4)
    assert s["tokens_saved"] == {"prompt": usage["prompt_tokens"], "completion": usage["completion_tokens"],
                                 "total": usage["prompt_tokens"] + usage["completion_tokens"]}
    assert s["by_category"]["code"]["requests"] == 4
    assert s["by_category"]["code"]["hits"] == 1
    assert s["by_category"]["code"]["hit_rate"] == pytest.approx(0.25)
    assert s["by_category"]["geography"]["bypasses"] == 1
    assert s["by_category"]["-"]["errors"] == 1  # failed before it could be classified
    assert {t: v["requests"] for t, v in s["by_tenant"].items()} == {"acme": 6, "globex": 1}
    # A model no upstream serves is not a label: clients must not grow the label sets.
    assert {m: v["requests"] for m, v in s["by_model"].items()} == {"echo-1": 6, "-": 1}
    assert s["lookup_latency"]["count"] == 6
    assert s["upstream_latency"]["count"] == 5  # misses, the bypass and the store-skipped one
    assert 0 < s["upstream_latency"]["p50_ms"] <= s["upstream_latency"]["p90_ms"] <= s["upstream_latency"]["p99_ms"]
    timeline = s["timeline"]["points"]
    assert sum(c["requests"] for p in timeline for c in p["by_category"].values()) == 7
    assert sum(c["hits"] for p in timeline for c in p["by_category"].values()) == 1


def test_stats_show_policy_entries_memory_and_most_hit_entries(gateway_cached):
    send_mixed_traffic(gateway_cached)
    gateway_cached.ask(PYTHON)
    s = gateway_cached.ok("GET", "/stats")
    assert s["cache_enabled"] is True and s["policy_version"] == 1
    code = s["effective"]["code"]
    assert code["similarity_threshold"] == pytest.approx(0.86)
    assert code["configured"]["ttl_seconds"] == 3600
    assert code["load_level"] == "normal"
    assert set(s["effective"]) == {"code", "geography", "default"}
    # no-cache skips the lookup but keeps the fresh answer, so Spain is stored too.
    assert s["entries"] == {"total": 4, "indexed": 4, "by_category": {"code": 2, "geography": 2, "default": 0}}
    assert s["memory"]["rss_bytes"] > 50 * 2**20
    assert s["memory"]["index_elements"] == 4 and s["memory"]["index_bytes"] > 0
    [top] = s["top_entries"]
    assert (top["query_text"], top["hits"], top["tenant"], top["category"]) == (PYTHON, 2, "acme", "code")


def test_stats_without_the_cache(gateway_plain):
    gateway_plain.ask("hello there")
    s = gateway_plain.ok("GET", "/stats")
    assert (s["requests"], s["bypasses"], s["hit_rate"]) == (1, 1, 0.0)
    assert s["cache_enabled"] is False and s["effective"] == {} and s["top_entries"] == []
    assert gateway_plain.admin("GET", "/entries").json()["error"]["code"] == "cache_unavailable"


def test_streams_are_counted_when_they_end(gateway_cached, echo):
    stream = {"stream": True, "stream_options": {"include_usage": True}}
    assert gateway_cached.ask(PYTHON, **stream).headers["x-semgate-cache"] == "miss"
    assert gateway_cached.ask(PYTHON, **stream).headers["x-semgate-cache"] == "hit"
    # Over the echo upstream's own 64-word bound, with no max_tokens asked: cut by the upstream, not kept.
    rambling = "What is a rust trait, " + "and why, " * 40 + "in short?"
    assert '"finish_reason":"length"' in gateway_cached.ask(rambling, **stream).text.replace(" ", "")
    control(echo, fault="cut", fault_count=1)
    gateway_cached.ask("What is a javascript promise?", **stream)
    s = gateway_cached.ok("GET", "/stats")
    # The answer the upstream cut was relayed as a miss but not kept; the broken stream is an error.
    assert (s["hits"], s["misses"], s["store_skipped"], s["errors"]) == (1, 1, 1, 1)
    assert s["tokens_saved"]["completion"] == 9  # "Echo:" and the question's eight words
    assert s["upstream_latency"]["count"] == 3
    assert s["entries"]["total"] == 1
