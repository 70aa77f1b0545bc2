"""The gateway's current state, read once for the admin API and for /metrics alike.

Counts of what happened are in `gateway.observe.stats`; this is what is true right now: the
effective (load-adjusted) policy of every category, how many entries the store and the
index hold, process memory, and how each upstream is doing.
"""

import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gateway.admin.config_view import without_credentials
from gateway.admin.context import AdminContext
from gateway.upstream.circuit_breaker import CircuitBreaker
from gateway.upstream.pool import Upstream
from policies.adaptive import LoadAdaptivePolicy
from policies.load import NORMAL

HEALTH_WINDOW_S = 60.0
IDLE, OK, DEGRADED, DOWN = "idle", "ok", "degraded", "down"


@dataclass(frozen=True)
class CategoryView:
    name: str
    cacheable: bool
    scope: str
    configured: dict[str, float]  # similarity_threshold, verifier_threshold, ttl_seconds as written
    effective: dict[str, float]  # the same after load adaptation
    load_level: str
    pressure: float
    entries: int  # in the document store, every namespace
    indexed: int  # in the in-memory index


@dataclass(frozen=True)
class UpstreamView:
    name: str
    base_url: str
    models: list[str]
    health: str  # idle | ok | degraded | down, from the last HEALTH_WINDOW_S
    in_flight: int
    capacity: int
    requests: int
    errors: int
    throttled: int
    recent: dict[str, Any]  # window_s, count, p50_ms, p99_ms, error_rate, throttle_rate
    backends: list[dict[str, Any]]  # each server behind it: url, healthy, in_flight, capacity, last_error
    load_level: str | None  # from the adaptive policy's load tracker; None without a cache
    pressure: float | None
    circuit: dict[str, Any]  # the circuit breaker: state, consecutive_failures, opened, rejected, throttled


@dataclass(frozen=True)
class Snapshot:
    cache_enabled: bool
    policy_version: int | None
    categories: list[CategoryView] = field(default_factory=list)
    entries_total: int = 0
    indexed_total: int = 0
    index_bytes: int = 0
    rss_bytes: int = 0
    embedder: dict[str, Any] = field(default_factory=dict)
    upstreams: list[UpstreamView] = field(default_factory=list)
    # (category, reason, count): entries the cache removed itself (quota eviction, TTL expiry).
    removals: list[tuple[str, str, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def take_snapshot(ctx: AdminContext) -> Snapshot:
    layer = ctx.layer
    adaptive = layer.adaptive if layer is not None else None
    upstreams = [upstream_view(u, adaptive) for u in ctx.pool.upstreams]
    if layer is None:
        return Snapshot(
            cache_enabled=ctx.cache is not None, policy_version=None, rss_bytes=rss_bytes(), upstreams=upstreams
        )
    cache = layer.cache
    stored: Counter[str] = Counter()
    for (_, category), n in (await cache.store.count_by_namespace()).items():
        stored[category] += n
    indexed: Counter[str] = Counter()
    for (_, category), n in cache.index.sizes().items():
        indexed[category] += n
    active = layer.policies.current
    categories = []
    for policy in active.policies.categories:
        values = layer.adaptive.effective(policy.name)
        categories.append(
            CategoryView(
                name=policy.name,
                cacheable=policy.cacheable,
                scope="private" if policy.personal else policy.scope,
                configured={
                    "similarity_threshold": policy.similarity_threshold,
                    "verifier_threshold": policy.verifier_threshold,
                    "ttl_seconds": policy.ttl_seconds,
                },
                effective={
                    "similarity_threshold": round(values.similarity_threshold, 4),
                    "verifier_threshold": round(values.verifier_threshold, 4),
                    "ttl_seconds": round(values.ttl_seconds, 1),
                },
                load_level=values.load_level,
                pressure=round(values.pressure, 4),
                entries=stored[policy.name],
                indexed=indexed[policy.name],
            )
        )
    embedder = cache.embedder.stats
    return Snapshot(
        cache_enabled=True,
        policy_version=active.version,
        categories=categories,
        entries_total=sum(stored.values()),
        indexed_total=len(cache.index),
        index_bytes=cache.index.memory_bytes(),
        rss_bytes=rss_bytes(),
        embedder={
            "requests": embedder.requests,
            "lru_hits": embedder.lru_hits,
            "batches": embedder.batches,
            "texts_encoded": embedder.texts_encoded,
            "mean_batch_size": round(embedder.mean_batch_size, 2),
        },
        upstreams=upstreams,
        removals=[(category, reason, n) for (category, reason), n in sorted(cache.removals.items())],
    )


def upstream_view(upstream: Upstream, adaptive: LoadAdaptivePolicy | None) -> UpstreamView:
    s = upstream.stats
    now = time.monotonic()
    recent = [r for r in s.recent if now - r[0] <= HEALTH_WINDOW_S]
    failed = sum(1 for _, _, ok, _ in recent if not ok)
    throttled = sum(1 for *_, status in recent if status in (429, 503))
    latencies = [seconds for _, seconds, ok, _ in recent if ok]
    p50 = p99 = None
    if latencies:
        p50, p99 = (round(float(v) * 1000, 3) for v in np.percentile(latencies, [50, 99]))
    error_rate = failed / len(recent) if recent else 0.0
    throttle_rate = throttled / len(recent) if recent else 0.0
    state = adaptive.load_states().get(upstream.name) if adaptive is not None else None
    overloaded = state is not None and state.level != NORMAL
    servers = upstream.backends.backends
    if not any(b.healthy for b in servers) or error_rate >= 0.5:
        health = DOWN
    elif error_rate >= 0.1 or throttle_rate >= 0.05 or overloaded or not all(b.healthy for b in servers):
        health = DEGRADED
    else:
        health = OK if recent else IDLE
    return UpstreamView(
        name=upstream.name,
        base_url=without_credentials(upstream.config.urls[0]),
        models=sorted(upstream.models),
        health=health,
        in_flight=s.in_flight,
        capacity=upstream.capacity,
        requests=s.requests,
        errors=s.errors,
        throttled=s.throttled,
        recent={
            "window_s": HEALTH_WINDOW_S,
            "count": len(recent),
            "p50_ms": p50,
            "p99_ms": p99,
            "error_rate": round(error_rate, 4),
            "throttle_rate": round(throttle_rate, 4),
        },
        backends=[
            {
                "url": without_credentials(b.url),
                "healthy": b.healthy,
                "in_flight": b.in_flight,
                "capacity": b.capacity,
                "last_error": b.last_error,
            }
            for b in servers
        ],
        load_level=(state.level if state is not None else NORMAL) if adaptive is not None else None,
        pressure=round(state.pressure, 4) if state is not None else (0.0 if adaptive is not None else None),
        circuit=circuit_view(upstream.breaker),
    )


def circuit_view(breaker: CircuitBreaker) -> dict[str, Any]:
    return {
        "state": breaker.state,
        "consecutive_failures": breaker.consecutive_failures,
        "opened": breaker.opened,
        "rejected": breaker.rejected,
        "throttled": breaker.throttled,
        "retry_in_s": round(breaker.retry_in_s, 3),
    }


def rss_bytes() -> int:
    """Resident memory of this process now (Linux /proc), or its peak where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
