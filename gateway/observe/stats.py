"""Request statistics: what the proxy saw, kept in memory for the admin API and the dashboard.

The proxy fills one `RequestTrace` per request and hands it to `RequestStats.record` once
the answer is finished (for a stream: when it ended). Counters are cumulative since the
start; latency percentiles come from bounded windows of recent requests, so they follow
the current behaviour instead of averaging over the whole uptime; a timeline of short
buckets gives the dashboard the hit rate by category over the last minutes.
"""

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from gateway.cache.outcome import CacheOutcome

ERROR = "error"  # a request answered with an error status, whatever the cache did for it
UNKNOWN = "-"  # a label not known when the request failed (no tenant before auth, no category without a cache)
LATENCY_WINDOW = 2048
TRACKED_ENTRIES = 10_000  # hit counts kept for the most-hit list; the rarely hit are dropped beyond this


@dataclass
class RequestTrace:
    """One request's outcome, filled in by the proxy as it learns it."""

    tenant: str = UNKNOWN
    route: str = UNKNOWN  # the API it arrived on, the edge's wire value (gateway/edge/wire.py): a fixed set
    model: str = UNKNOWN
    category: str = UNKNOWN
    upstream: str = UNKNOWN
    cache: CacheOutcome = CacheOutcome.BYPASS  # what the cache did, recorded by the proxy as it answers
    status: int = 0  # the response's status, once finished
    lookup_s: float | None = None  # the cache step: embedding, classification, search
    upstream_s: float | None = None
    prompt_tokens_saved: int = 0
    completion_tokens_saved: int = 0
    entry_id: str | None = None  # the entry that answered a hit
    routed_model: str | None = None  # the model IC-Cache routed a miss to (gateway/incontext/)

    def served_from(self, response: dict[str, Any], entry_id: str) -> None:
        """A hit saves the upstream the tokens the cached answer once cost."""
        usage = response.get("usage") or {}
        self.prompt_tokens_saved = _count(usage.get("prompt_tokens"))
        self.completion_tokens_saved = _count(usage.get("completion_tokens"))
        self.entry_id = entry_id

    def finish(self, status: int) -> "RequestTrace":
        self.status = status
        return self

    @property
    def outcome(self) -> str:
        """What the stats and metrics count this request as: an error, or what the cache did."""
        return ERROR if self.status >= 400 else self.cache.value


class TraceRecorder(Protocol):
    def record(self, trace: RequestTrace) -> None: ...


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


class LatencyWindow:
    def __init__(self, size: int = LATENCY_WINDOW) -> None:
        self._seconds: deque[float] = deque(maxlen=size)

    def add(self, seconds: float | None) -> None:
        if seconds is not None:
            self._seconds.append(seconds)

    def summary(self) -> dict[str, float | int | None]:
        if not self._seconds:
            return {"count": 0, "p50_ms": None, "p90_ms": None, "p99_ms": None}
        p50, p90, p99 = np.percentile(np.fromiter(self._seconds, dtype=np.float64), [50, 90, 99]) * 1000
        return {
            "count": len(self._seconds),
            "p50_ms": round(float(p50), 3),
            "p90_ms": round(float(p90), 3),
            "p99_ms": round(float(p99), 3),
        }


@dataclass
class Tally:
    """Counts and recent latencies of one slice of the traffic (all of it, a category, a tenant, a model)."""

    outcomes: Counter = field(default_factory=Counter)
    prompt_tokens_saved: int = 0
    completion_tokens_saved: int = 0
    lookup: LatencyWindow = field(default_factory=lambda: LatencyWindow(LATENCY_WINDOW // 4))
    upstream: LatencyWindow = field(default_factory=lambda: LatencyWindow(LATENCY_WINDOW // 4))

    def add(self, trace: RequestTrace) -> None:
        self.outcomes[trace.outcome] += 1
        self.prompt_tokens_saved += trace.prompt_tokens_saved
        self.completion_tokens_saved += trace.completion_tokens_saved
        self.lookup.add(trace.lookup_s)
        self.upstream.add(trace.upstream_s)

    def summary(self) -> dict[str, Any]:
        requests = sum(self.outcomes.values())
        hits = self.outcomes[CacheOutcome.HIT]
        # Every outcome has its count, so the counts add up to `requests`.
        return {
            "requests": requests,
            "hits": hits,
            "stale": self.outcomes[CacheOutcome.STALE],
            "misses": self.outcomes[CacheOutcome.MISS],
            "bypasses": self.outcomes[CacheOutcome.BYPASS],
            "store_skipped": self.outcomes[CacheOutcome.STORE_SKIPPED],
            "errors": self.outcomes[ERROR],
            # The share of all requests answered from the cache.
            "hit_rate": round(hits / requests, 4) if requests else 0.0,
            "tokens_saved": {
                "prompt": self.prompt_tokens_saved,
                "completion": self.completion_tokens_saved,
                "total": self.prompt_tokens_saved + self.completion_tokens_saved,
            },
            "lookup_latency": self.lookup.summary(),
            "upstream_latency": self.upstream.summary(),
        }


class Timeline:
    """Requests and hits per category in fixed buckets of `bucket_s`, over the last `buckets` of them.

    points() lists every bucket from the oldest kept to the current one, quiet ones included with no
    categories: a chart draws a quiet stretch as a gap (a chart given only the busy buckets drew a
    straight line across minutes without traffic, as if the hit rate had moved smoothly)."""

    def __init__(self, bucket_s: float = 5.0, buckets: int = 120) -> None:
        self.bucket_s = bucket_s
        self.buckets = buckets
        # (bucket number: time // bucket_s, counts); only buckets that saw requests are kept
        self._buckets: deque[tuple[int, dict[str, list[int]]]] = deque(maxlen=buckets)

    def add(self, category: str, hit: bool, now: float) -> None:
        number = int(now // self.bucket_s)
        if not self._buckets or self._buckets[-1][0] != number:
            self._buckets.append((number, {}))
        counts = self._buckets[-1][1].setdefault(category, [0, 0])
        counts[0] += 1
        counts[1] += int(hit)

    def points(self, now: float | None = None) -> list[dict[str, Any]]:
        if not self._buckets:
            return []
        current = int((time.time() if now is None else now) // self.bucket_s)
        kept = dict(self._buckets)
        first = max(self._buckets[0][0], current - self.buckets + 1)
        return [
            {
                "t": number * self.bucket_s,
                "by_category": {c: {"requests": n, "hits": h} for c, (n, h) in kept.get(number, {}).items()},
            }
            for number in range(first, max(current, self._buckets[-1][0]) + 1)
        ]


class RequestStats:
    def __init__(self, bucket_s: float = 5.0) -> None:
        self.started_at = time.time()
        self.total = Tally(lookup=LatencyWindow(), upstream=LatencyWindow())
        self.by_category: dict[str, Tally] = {}
        self.by_tenant: dict[str, Tally] = {}
        self.by_model: dict[str, Tally] = {}
        self.by_route: dict[str, Tally] = {}  # chat, completion, embeddings, ...: the wire values, a fixed set
        self.timeline = Timeline(bucket_s)
        self.hits_by_entry: Counter[str] = Counter()

    def record(self, trace: RequestTrace) -> None:
        self.total.add(trace)
        for slices, key in (
            (self.by_category, trace.category),
            (self.by_tenant, trace.tenant),
            (self.by_model, trace.model),
            (self.by_route, trace.route),
        ):
            tally = slices.get(key)
            if tally is None:
                tally = slices[key] = Tally()
            tally.add(trace)
        self.timeline.add(trace.category, trace.outcome == CacheOutcome.HIT, time.time())
        if trace.entry_id is not None:
            self.hits_by_entry[trace.entry_id] += 1
            if len(self.hits_by_entry) > TRACKED_ENTRIES:  # entries the cache evicted linger here otherwise
                self.hits_by_entry = Counter(dict(self.hits_by_entry.most_common(TRACKED_ENTRIES // 2)))

    def forget_entries(self, entry_ids: list[str] | None = None) -> None:
        """Deleted entries leave the most-hit list (all of them on a flush: `None`)."""
        if entry_ids is None:
            self.hits_by_entry.clear()
        for entry_id in entry_ids or ():
            self.hits_by_entry.pop(entry_id, None)

    def summary(self) -> dict[str, Any]:
        return {
            "uptime_s": round(time.time() - self.started_at, 1),
            **self.total.summary(),
            "by_category": {k: t.summary() for k, t in sorted(self.by_category.items())},
            "by_tenant": {k: t.summary() for k, t in sorted(self.by_tenant.items())},
            "by_model": {k: t.summary() for k, t in sorted(self.by_model.items())},
            "by_route": {k: t.summary() for k, t in sorted(self.by_route.items())},
            "timeline": {"bucket_s": self.timeline.bucket_s, "points": self.timeline.points()},
        }
