"""/metrics in the Prometheus text format.

Each app has its own registry (never prometheus_client's global one), so several gateways
in one process (tests, benchmarks) keep separate figures. Per-request figures are observed
as requests finish; the gateway's current state (entries, effective thresholds, upstream
health) is read from a fresh snapshot at every scrape.
"""

from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.requests import Request
from starlette.responses import Response

from gateway.admin.auth import AdminAuth
from gateway.admin.context import AdminContext
from gateway.admin.snapshot import IDLE, OK, Snapshot, take_snapshot
from gateway.cache.embedder import EmbedderStats
from gateway.edge.errors import OpenAIError
from gateway.observe.stats import RequestTrace
from gateway.upstream.circuit_breaker import STATE_CODES

LOOKUP_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
LOOP_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, embedder_stats: Callable[[], EmbedderStats | None] = lambda: None) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "semgate_requests",
            "Requests by cache outcome (hit, stale, miss, bypass, store-skipped, error)",
            ["category", "tenant", "model", "outcome"],
            registry=r,
        )
        self.tokens_saved = Counter(
            "semgate_tokens_saved",
            "Tokens the upstream did not have to process thanks to hits",
            ["category", "kind"],
            registry=r,
        )
        # By the API a request came through (chat, completion, embeddings, ...): a fixed set of wire values.
        self.route_requests = Counter(
            "semgate_route_requests", "Requests by route and cache outcome", ["route", "outcome"], registry=r
        )
        self.route_tokens_saved = Counter(
            "semgate_route_tokens_saved",
            "Tokens hits saved the upstream (or model), by route",
            ["route", "kind"],
            registry=r,
        )
        self.lookup_seconds = Histogram(
            "semgate_cache_lookup_seconds",
            "The cache step of a request: embedding, classification and search",
            ["category"],
            buckets=LOOKUP_BUCKETS,
            registry=r,
        )
        self.upstream_seconds = Histogram(
            "semgate_upstream_request_seconds",
            "Upstream requests, from sending to the end of the answer",
            ["upstream"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )
        self.embedding_seconds = Histogram(
            "semgate_embedding_batch_seconds", "Model time of one embedding batch", buckets=LOOKUP_BUCKETS, registry=r
        )
        self.embedding_batch_size = Histogram(
            "semgate_embedding_batch_size", "Texts embedded in one model call", buckets=BATCH_SIZE_BUCKETS, registry=r
        )
        self.loop_lag = Histogram(
            "semgate_event_loop_lag_seconds",
            "How late the event loop woke a 10 ms sleeper (gateway/observe/loop_lag.py): every request waits that long",
            buckets=LOOP_LAG_BUCKETS,
            registry=r,
        )
        self.loop_lag_max = Gauge(
            "semgate_event_loop_lag_max_seconds", "The longest event loop stall since start", registry=r
        )
        self._loop_lag_max_s = 0.0
        self._state = _StateCollector()
        r.register(self._state)
        ProcessCollector(registry=r)
        self._embedder_stats = embedder_stats
        self._batches = _BatchWatch()

    def observe_loop_lag(self, lag_s: float) -> None:
        self.loop_lag.observe(lag_s)
        if lag_s > self._loop_lag_max_s:
            self._loop_lag_max_s = lag_s
            self.loop_lag_max.set(lag_s)

    def record(self, trace: RequestTrace) -> None:
        self.requests.labels(trace.category, trace.tenant, trace.model, trace.outcome).inc()
        self.route_requests.labels(trace.route, trace.outcome).inc()
        for kind, saved in (("prompt", trace.prompt_tokens_saved), ("completion", trace.completion_tokens_saved)):
            if saved:
                self.route_tokens_saved.labels(trace.route, kind).inc(saved)
        if trace.prompt_tokens_saved:
            self.tokens_saved.labels(trace.category, "prompt").inc(trace.prompt_tokens_saved)
        if trace.completion_tokens_saved:
            self.tokens_saved.labels(trace.category, "completion").inc(trace.completion_tokens_saved)
        if trace.lookup_s is not None:
            self.lookup_seconds.labels(trace.category).observe(trace.lookup_s)
        if trace.upstream_s is not None:
            self.upstream_seconds.labels(trace.upstream).observe(trace.upstream_s)
        self._observe_batches()

    def render(self, snapshot: Snapshot) -> bytes:
        self._observe_batches()
        self._state.snapshot = snapshot
        return generate_latest(self.registry)

    def _observe_batches(self) -> None:
        stats = self._embedder_stats()
        if stats is None:
            return
        for size, seconds in self._batches.new_batches(stats):
            self.embedding_batch_size.observe(size)
            self.embedding_seconds.observe(seconds)


class _BatchWatch:
    """Per-batch figures from the embedder's cumulative counters.

    The embedder runs one batch at a time and every batch serves at least one request,
    which is observed right after it; so between two reads usually one batch finished,
    and its size and time are exact. When several did, their sizes are still exact and
    each is given their mean time.
    """

    def __init__(self) -> None:
        self._sizes: Tally[int] = Tally()
        self._seconds = 0.0

    def new_batches(self, stats: EmbedderStats) -> list[tuple[int, float]]:
        sizes = [size for size, n in (stats.batch_sizes - self._sizes).items() for _ in range(n)]
        if not sizes:
            return []
        seconds = (stats.encode_seconds - self._seconds) / len(sizes)
        self._sizes = Tally(stats.batch_sizes)
        self._seconds = stats.encode_seconds
        return [(size, seconds) for size in sizes]


class _StateCollector:
    """Gauges (and counters kept elsewhere) from the snapshot taken for the current scrape."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None

    def describe(self) -> list[Metric]:
        return []  # unknown until the first scrape; the registry must not collect() at registration

    def collect(self) -> Iterator[Metric]:
        s = self.snapshot
        if s is None:
            return
        yield _gauge("semgate_cache_enabled", "1 when the semantic cache runs", [], [([], int(s.cache_enabled))])
        if s.cache_enabled and s.policy_version is not None:
            yield _gauge(
                "semgate_policy_version",
                "Version of the policy in force (1 at start, +1 per reload)",
                [],
                [([], s.policy_version)],
            )
            yield _gauge(
                "semgate_cache_entries",
                "Entries in the document store",
                ["category"],
                [([c.name], c.entries) for c in s.categories],
            )
            yield _gauge(
                "semgate_cache_indexed_entries",
                "Entries in the in-memory vector index",
                ["category"],
                [([c.name], c.indexed) for c in s.categories],
            )
            yield _gauge("semgate_cache_index_bytes", "Memory of the vector index graphs", [], [([], s.index_bytes)])
            for key, help_text in (
                ("similarity_threshold", "Effective (load-adjusted) similarity threshold"),
                ("verifier_threshold", "Effective (load-adjusted) verifier threshold"),
                ("ttl_seconds", "Effective (load-adjusted) TTL of new entries"),
            ):
                yield _gauge(
                    f"semgate_cache_{key}",
                    help_text,
                    ["category"],
                    [([c.name], c.effective[key]) for c in s.categories],
                )
            evictions = CounterMetricFamily(
                "semgate_cache_evictions",
                "Entries the cache removed itself: quota eviction, or TTL expiry (category '*')",
                labels=["category", "reason"],
            )
            for category, reason, count in s.removals:
                evictions.add_metric([category, reason], count)
            yield evictions
            yield _gauge(
                "semgate_cache_load_pressure",
                "How far the category's thresholds moved toward their adaptive bounds (0..1)",
                ["category"],
                [([c.name], c.pressure) for c in s.categories],
            )
        ups = s.upstreams
        yield _gauge(
            "semgate_upstream_healthy",
            "1 when the upstream answered well over the last minute (or was idle)",
            ["upstream"],
            [([u.name], int(u.health in (OK, IDLE))) for u in ups],
        )
        yield _gauge(
            "semgate_upstream_server_healthy",
            "1 while a server behind the upstream passes its health checks",
            ["upstream", "url"],
            [([u.name, b["url"]], int(b["healthy"])) for u in ups for b in u.backends],
        )
        yield _gauge(
            "semgate_upstream_in_flight",
            "Requests open at the upstream",
            ["upstream"],
            [([u.name], u.in_flight) for u in ups],
        )
        for key, help_text in (
            ("requests", "Upstream requests sent (retries included)"),
            ("errors", "Upstream requests that failed"),
            ("throttled", "Upstream answers 429 or 503"),
        ):
            family = CounterMetricFamily(f"semgate_upstream_{key}", help_text, labels=["upstream"])
            for u in ups:
                family.add_metric([u.name], getattr(u, key))
            yield family
        yield _gauge(
            "semgate_upstream_circuit_state",
            "Circuit breaker: 0 closed, 1 half-open, 2 open",
            ["upstream"],
            [([u.name], STATE_CODES[u.circuit["state"]]) for u in ups],
        )
        for key, help_text in (
            ("opened", "Times the circuit breaker opened"),
            ("rejected", "Requests failed fast by the circuit breaker (open, or upstream Retry-After)"),
        ):
            family = CounterMetricFamily(f"semgate_upstream_circuit_{key}", help_text, labels=["upstream"])
            for u in ups:
                family.add_metric([u.name], u.circuit[key])
            yield family
        pressured = [([u.name], u.pressure) for u in ups if u.pressure is not None]
        if pressured:
            yield _gauge(
                "semgate_upstream_load_pressure",
                "Load pressure the adaptive policy derives (0..1)",
                ["upstream"],
                pressured,
            )


def _gauge(name: str, help_text: str, labels: list[str], samples: list[tuple[list[str], float]]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for values, value in samples:
        family.add_metric(values, value)
    return family


def metrics_endpoint(
    metrics: Metrics, ctx: AdminContext, auth: AdminAuth, public: bool
) -> Callable[[Request], Awaitable[Response]]:
    """/metrics labels counts by tenant name: with an admin token set it takes that token
    (Prometheus: `authorization: {credentials: ...}` in the scrape config) unless `public`."""

    async def endpoint(request: Request) -> Response:
        if auth.enabled and not public:
            try:
                auth.check(request.headers)
            except OpenAIError as exc:
                return exc.response()
        return Response(metrics.render(await take_snapshot(ctx)), media_type=CONTENT_TYPE_LATEST)

    return endpoint
