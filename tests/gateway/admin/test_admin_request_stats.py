"""gateway.observe.stats on its own: outcomes as the client saw them, percentiles, buckets, bounded memory."""

import pytest

from gateway.cache.outcome import CacheOutcome
from gateway.observe import stats as stats_module
from gateway.observe.stats import RequestStats, RequestTrace, Timeline


def trace(outcome: str, category: str = "code", entry: str | None = None, **fields) -> RequestTrace:
    cache = CacheOutcome.BYPASS if outcome == "error" else CacheOutcome(outcome)
    t = RequestTrace(tenant="acme", model="m", category=category, cache=cache, **fields)
    t.entry_id = entry
    return t.finish(200 if outcome != "error" else 502)


def test_outcome_is_the_cache_outcome_unless_the_answer_failed():
    assert trace("hit").outcome == "hit"
    failed = RequestTrace(cache=CacheOutcome.BYPASS).finish(404)
    assert (failed.outcome, failed.category, failed.tenant) == ("error", "-", "-")
    saved = RequestTrace()
    saved.served_from({"usage": {"prompt_tokens": 7, "completion_tokens": 5}}, "e1")
    assert (saved.prompt_tokens_saved, saved.completion_tokens_saved, saved.entry_id) == (7, 5, "e1")
    saved.served_from({"usage": {"completion_tokens": True}}, "e2")  # streamed answers may lack usage
    assert (saved.prompt_tokens_saved, saved.completion_tokens_saved) == (0, 0)


def test_percentiles_and_hit_rate():
    stats = RequestStats()
    for i in range(100):
        stats.record(trace("hit" if i % 4 == 0 else "miss", lookup_s=(i + 1) / 1000))
    s = stats.summary()
    assert (s["requests"], s["hits"], s["hit_rate"]) == (100, 25, 0.25)
    assert s["lookup_latency"]["p50_ms"] == pytest.approx(50.5)
    assert s["lookup_latency"]["p99_ms"] == pytest.approx(99.01)
    assert s["upstream_latency"] == {"count": 0, "p50_ms": None, "p90_ms": None, "p99_ms": None}


def test_timeline_buckets_by_time_and_keeps_the_last_ones():
    timeline = Timeline(bucket_s=5, buckets=2)
    for now, hit in ((100.0, True), (101.0, False), (106.0, True), (112.0, False)):
        timeline.add("code", hit, now)
    assert timeline.points(now=112.0) == [{"t": 105.0, "by_category": {"code": {"requests": 1, "hits": 1}}},
                                          {"t": 110.0, "by_category": {"code": {"requests": 1, "hits": 0}}}]


def test_timeline_lists_quiet_buckets_so_a_chart_shows_them_as_gaps():
    """A chart given only the busy buckets drew a straight line across minutes with no traffic."""
    timeline = Timeline(bucket_s=5, buckets=6)
    timeline.add("code", True, 100.0)
    timeline.add("code", False, 117.0)
    assert timeline.points(now=122.0) == [
        {"t": 100.0, "by_category": {"code": {"requests": 1, "hits": 1}}},
        {"t": 105.0, "by_category": {}}, {"t": 110.0, "by_category": {}},
        {"t": 115.0, "by_category": {"code": {"requests": 1, "hits": 0}}},
        {"t": 120.0, "by_category": {}}]
    assert [p["t"] for p in timeline.points(now=140.0)] == [115.0, 120.0, 125.0, 130.0, 135.0, 140.0]  # last 6


def test_most_hit_tracking_stays_bounded(monkeypatch):
    monkeypatch.setattr(stats_module, "TRACKED_ENTRIES", 10)
    stats = RequestStats()
    for _ in range(3):
        stats.record(trace("hit", entry="popular"))
    for i in range(20):
        stats.record(trace("hit", entry=f"once-{i}"))
    assert len(stats.hits_by_entry) <= 10
    assert stats.hits_by_entry.most_common(1) == [("popular", 3)]
    stats.forget_entries(["popular"])
    assert "popular" not in stats.hits_by_entry
