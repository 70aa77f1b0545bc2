"""Metrics arithmetic: percentiles, SLOs and goodput, hit rates by category, false-hit detection."""

import pytest

from loadtest.metrics import LatencyStats, answer_sources, false_hits, hits_by_category, summarize
from loadtest.records import RequestRecord
from loadtest.workloads.spec import SLO


def record(i, *, e2e=1.0, ttft=0.1, tpot=0.01, start=None, cache=None, category=None, group=None,
           answer=None, error=None, tokens=10, prompt_tokens=5, slo_met=True):
    return RequestRecord(index=i, scheduled_s=float(i), start_s=float(i) if start is None else start,
                         endpoint="/v1/chat/completions", stream=True, question=f"q{i}", category=category,
                         group=group, error=error, e2e_s=e2e, ttft_s=ttft, tpot_s=tpot, cache=cache,
                         answer_digest=answer, completion_tokens=tokens, prompt_tokens=prompt_tokens,
                         slo_met=slo_met and error is None)


def test_latency_percentiles_interpolate_like_numpy():
    stats = LatencyStats.of([float(v) for v in range(1, 101)])
    assert (stats.count, stats.mean, stats.p50, stats.p99, stats.max) == (100, 50.5, 50.5, pytest.approx(99.01), 100.0)
    assert LatencyStats.of([]).p50 is None


def test_slo_checks_only_the_bounds_it_has():
    slo = SLO(ttft_s=0.5, e2e_s=2.0)
    assert slo.met_by(ttft_s=0.4, tpot_s=9.0, e2e_s=2.0)
    assert not slo.met_by(ttft_s=0.6, tpot_s=0.0, e2e_s=1.0)
    assert not SLO(tpot_s=0.05).met_by(0.1, 0.06, 1.0)
    assert SLO(tpot_s=0.05).met_by(0.1, None, 1.0)  # a one-token answer has no TPOT to miss


def test_goodput_counts_requests_that_succeeded_within_their_slo():
    records = [record(0, start=0.0, e2e=1.0), record(1, start=1.0, e2e=1.0, slo_met=False),
               record(2, start=2.0, e2e=2.0), record(3, start=3.0, e2e=0.5, error="http_503")]
    s = summarize(records)
    assert s.span_s == 4.0  # first send at 0, last completion at 2 + 2
    assert (s.ok, s.goodput_requests, s.goodput_fraction) == (3, 2, 0.5)
    assert s.goodput_rps == 0.5 and s.throughput_rps == 0.75
    assert s.errors == {"http_503": 1}
    assert s.e2e_s.count == 3  # failed requests do not enter the latency figures


def test_hit_rate_overall_and_by_category():
    records = [record(0, cache="hit", category="a"), record(1, cache="miss", category="a"),
               record(2, cache="hit", category="b"), record(3, cache="bypass", category="b"),
               record(4, cache="miss", category="b"), record(5, cache="hit", category="b", error="disconnected")]
    s = summarize(records)
    assert s.hit_rate == pytest.approx(2 / 5)
    by = hits_by_category(records)
    assert (by["a"].hits, by["a"].requests, by["a"].rate) == (1, 2, 0.5)
    assert (by["b"].hits, by["b"].requests) == (1, 3)  # the failed request is not counted
    assert s.cache_outcomes == {"miss": 2, "hit": 2, "bypass": 1}


def test_send_lag_shows_a_load_generator_that_fell_behind():
    late = record(0, start=0.25)
    late.scheduled_s = 0.0
    on_time = record(1, start=1.0)
    assert summarize([late, on_time]).send_lag_s.max == 0.25


def test_no_cache_header_means_no_hit_rate():
    assert summarize([record(0), record(1)]).hit_rate is None


def test_saved_tokens_are_those_of_hits():
    s = summarize([record(0, cache="hit", tokens=7, prompt_tokens=3), record(1, cache="miss", tokens=11)])
    assert (s.saved_completion_tokens, s.saved_prompt_tokens, s.completion_tokens) == (7, 3, 18)


def test_a_hit_answered_from_another_duplicate_group_is_a_false_hit():
    records = [
        record(0, cache="miss", group="g1", answer="A1"),
        record(1, cache="miss", group="g2", answer="A2"),
        record(2, cache="hit", group="g1", answer="A1"),  # right: stored for its own group
        record(3, cache="hit", group="g1", answer="A2"),  # wrong: g2's answer
        record(4, cache="hit", group="g3", answer="A9"),  # unknown source
        record(5, cache="hit", group=None, answer="A2"),  # no label: cannot judge
    ]
    fh = false_hits(records)
    assert (fh.judged, fh.false, fh.unattributed, fh.rate) == (2, 1, 1, 0.5)


def test_identical_answers_from_several_groups_are_not_blamed():
    records = [record(0, cache="miss", group="g1", answer="same"), record(1, cache="miss", group="g2", answer="same"),
               record(2, cache="hit", group="g2", answer="same")]
    assert false_hits(records).false == 0


def test_hits_can_be_attributed_to_an_earlier_run():
    earlier = [record(0, cache="miss", group="g1", answer="A1")]
    later = [record(0, cache="hit", group="g2", answer="A1")]
    assert false_hits(later).unattributed == 1
    assert false_hits(later, answer_sources(earlier + later)).false == 1


def test_summary_json_carries_the_false_hit_rate():
    data = summarize([record(0, cache="miss", group="g", answer="x"), record(1, cache="hit", group="h", answer="x")]).to_dict()
    assert data["false_hits"] == {"judged": 1, "false": 1, "unattributed": 0, "rate": 1.0}
