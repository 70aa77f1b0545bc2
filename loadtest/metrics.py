"""Arithmetic over request records: latency percentiles, throughput, goodput, hit and false-hit rates."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np

from loadtest.records import RequestRecord

PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class LatencyStats:
    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None

    @classmethod
    def of(cls, values: Sequence[float]) -> LatencyStats:
        if not values:
            return cls(0, None, None, None, None, None, None)
        array = np.asarray(values, dtype=np.float64)
        p50, p90, p95, p99 = (float(v) for v in np.percentile(array, PERCENTILES))
        return cls(len(array), float(array.mean()), p50, p90, p95, p99, float(array.max()))


@dataclass(frozen=True)
class FalseHits:
    """Hits judged against duplicate labels: wrong when the answer was stored for another group."""

    judged: int
    false: int
    unattributed: int  # labelled hits whose answer no miss in the sources produced

    @property
    def rate(self) -> float | None:
        return self.false / self.judged if self.judged else None


def answer_sources(records: Iterable[RequestRecord]) -> dict[str, set[str]]:
    """answer digest → duplicate groups of the upstream-served requests that produced that answer."""
    sources: dict[str, set[str]] = {}
    for r in records:
        if r.ok and not r.hit and r.group is not None and r.answer_digest is not None:
            sources.setdefault(r.answer_digest, set()).add(r.group)
    return sources


def false_hits(records: Sequence[RequestRecord], sources: dict[str, set[str]] | None = None) -> FalseHits:
    """A cache returns stored answers verbatim, so a hit's answer digest names the request(s) it came from.

    `sources` defaults to this run's own misses; pass earlier runs' too when the cache was warm.
    """
    sources = answer_sources(records) if sources is None else sources
    judged = false = unattributed = 0
    for r in records:
        if not (r.ok and r.hit and r.group is not None):
            continue
        groups = sources.get(r.answer_digest or "")
        if groups is None:
            unattributed += 1
            continue
        judged += 1
        # If several groups produced the same text, the hit is right as long as one of them is its own.
        false += r.group not in groups
    return FalseHits(judged, false, unattributed)


@dataclass(frozen=True)
class CategoryHits:
    requests: int
    hits: int

    @property
    def rate(self) -> float:
        return self.hits / self.requests if self.requests else 0.0


def hits_by_category(records: Iterable[RequestRecord]) -> dict[str, CategoryHits]:
    totals: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for r in records:
        if r.ok:
            totals[r.label] += 1
            hits[r.label] += r.hit
    return {label: CategoryHits(totals[label], hits[label]) for label in sorted(totals)}


def active_span_s(records: Sequence[RequestRecord]) -> float:
    """From the first send to the last completion: the time the measured throughput is spread over."""
    ends = [r.start_s + r.e2e_s for r in records if r.e2e_s is not None]
    if not ends:
        return 0.0
    return max(ends) - min(r.start_s for r in records)


@dataclass(frozen=True)
class Summary:
    requests: int
    ok: int
    errors: dict[str, int]
    span_s: float
    throughput_rps: float
    output_tokens_per_s: float
    ttft_s: LatencyStats
    tpot_s: LatencyStats
    token_gap_s: LatencyStats
    e2e_s: LatencyStats
    # Sent later than the arrival process asked: large values mean the load generator, not the
    # target, was the bottleneck, and the run under-states the offered load.
    send_lag_s: LatencyStats
    cache_outcomes: dict[str, int]
    hit_rate: float | None  # None when the target sends no cache header (e.g. a bare backend)
    hits_by_category: dict[str, dict[str, float]]
    false_hits: FalseHits
    goodput_requests: int  # requests that succeeded within their SLO
    goodput_fraction: float
    goodput_rps: float
    prompt_tokens: int
    completion_tokens: int
    saved_completion_tokens: int  # produced by the cache instead of the upstream
    saved_prompt_tokens: int

    def to_dict(self) -> dict:
        data = asdict(self)
        data["false_hits"]["rate"] = self.false_hits.rate
        return data


def summarize(records: Sequence[RequestRecord], sources: dict[str, set[str]] | None = None) -> Summary:
    ok = [r for r in records if r.ok]
    span = active_span_s(records)
    headed = [r for r in ok if r.cache is not None]
    hits = [r for r in ok if r.hit]
    good = sum(r.slo_met for r in records)
    completion_tokens = sum(r.completion_tokens for r in ok)
    return Summary(
        requests=len(records),
        ok=len(ok),
        errors=dict(Counter(r.error for r in records if r.error).most_common()),
        span_s=span,
        throughput_rps=len(ok) / span if span else 0.0,
        output_tokens_per_s=completion_tokens / span if span else 0.0,
        ttft_s=LatencyStats.of([r.ttft_s for r in ok if r.ttft_s is not None]),
        tpot_s=LatencyStats.of([r.tpot_s for r in ok if r.tpot_s is not None]),
        token_gap_s=LatencyStats.of([g for r in ok for g in r.token_gaps_s]),
        e2e_s=LatencyStats.of([r.e2e_s for r in ok if r.e2e_s is not None]),
        send_lag_s=LatencyStats.of([max(0.0, r.start_s - r.scheduled_s) for r in records]),
        cache_outcomes=dict(Counter(r.cache for r in ok if r.cache).most_common()),
        hit_rate=len(hits) / len(headed) if headed else None,
        hits_by_category={k: {"requests": v.requests, "hits": v.hits, "rate": v.rate}
                          for k, v in hits_by_category(ok).items()},
        false_hits=false_hits(records, sources),
        goodput_requests=good,
        goodput_fraction=good / len(records) if records else 0.0,
        goodput_rps=good / span if span else 0.0,
        prompt_tokens=sum(r.prompt_tokens or 0 for r in ok),
        completion_tokens=completion_tokens,
        saved_completion_tokens=sum(r.completion_tokens for r in hits),
        saved_prompt_tokens=sum(r.prompt_tokens or 0 for r in hits),
    )
