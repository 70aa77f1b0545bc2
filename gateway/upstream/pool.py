"""Upstreams: which base URL serves a model, one pooled HTTP client, and error mapping.

An upstream may list several servers (base_urls); gateway/upstream/routing.py picks one per
request (prefix affinity, load, health) and gives the order in which the others take over.

Retries happen only while nothing has reached the client yet: on a connection failure or
a 502/503/504 answer before the response starts. Once bytes flow, a failure is reported
to the client in the stream instead of being retried behind its back.

Each upstream has a circuit breaker (gateway/upstream/circuit_breaker.py): every attempt's outcome
is reported to it, and while it is open requests fail fast here without being sent.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
import orjson

from gateway.edge.errors import OpenAIError
from gateway.observe.log_safety import redact
from gateway.upstream.circuit_breaker import CLOSED, CircuitBreaker
from gateway.upstream.routing import Backend, BackendSet
from gateway.upstream.settings import UpstreamConfig

log = logging.getLogger(__name__)
_RETRY_STATUS = {502, 503, 504}
CLIENT_CLOSED = 499  # nginx's "client closed request": what a backend answers once a request is cancelled


@dataclass
class UpstreamStats:
    in_flight: int = 0
    requests: int = 0
    errors: int = 0
    throttled: int = 0
    cancelled: int = 0  # ended because the client went away (or the upstream said 499): no verdict on it
    # (finished_at, seconds, ok, status) of recent requests, for load signals and the admin view.
    recent: deque = field(default_factory=lambda: deque(maxlen=512))
    # (at, seconds from sending) of the first token of recent streams (gateway/upstream/load.py).
    first_tokens: deque = field(default_factory=lambda: deque(maxlen=512))

    def record(self, started: float, ok: bool, status: int | None, cancelled: bool = False) -> None:
        if cancelled:
            self.cancelled += 1  # neither an error nor a latency: it says nothing about the upstream
            return
        now = time.monotonic()
        self.recent.append((now, now - started, ok, status))
        if not ok:
            self.errors += 1
        if status in (429, 503):
            self.throttled += 1


@dataclass
class Upstream:
    config: UpstreamConfig
    models: set[str]
    stats: UpstreamStats = field(default_factory=UpstreamStats)
    backends: BackendSet = field(init=False)
    breaker: CircuitBreaker = field(init=False)

    def __post_init__(self) -> None:
        self.backends = BackendSet(self.config.urls, self.config.capacity, self.config.affinity_prefix_chars)
        self.breaker = CircuitBreaker(self.config.circuit_breaker)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def capacity(self) -> int:
        """Requests it serves at once: `capacity` per healthy server (at least one, while all are down)."""
        return self.config.capacity * max(1, sum(b.healthy for b in self.backends.backends))

    def headers(self) -> dict[str, str]:
        key = self.config.api_key()
        return {"authorization": f"Bearer {key}"} if key else {}


class UpstreamPool:
    def __init__(self, configs: tuple[UpstreamConfig, ...], client: httpx.AsyncClient) -> None:
        self.client = client
        self.upstreams = [Upstream(c, set(c.models)) for c in configs]
        self._discovered_at = float("-inf")
        self._health_checks: list[asyncio.Task] = []

    def start_health_checks(self) -> None:
        """Probe the servers of every upstream that has several, so failed ones leave the choice."""
        several = [u for u in self.upstreams if len(u.backends) > 1]
        self._health_checks = [asyncio.create_task(self._check_health(u)) for u in several]

    async def stop_health_checks(self) -> None:
        for task in self._health_checks:
            task.cancel()
        await asyncio.gather(*self._health_checks, return_exceptions=True)
        self._health_checks = []

    async def _check_health(self, upstream: Upstream) -> None:
        cfg = upstream.config
        while True:
            await upstream.backends.check(self.client, cfg.health_path, upstream.headers(), cfg.timeouts.connect_s + 1)
            await asyncio.sleep(cfg.health_interval_s)

    async def discover_models(self) -> None:
        """Ask upstreams configured without a model list which models they serve."""
        self._discovered_at = time.monotonic()
        await asyncio.gather(*(self._discover(u) for u in self.upstreams if not u.config.models))

    async def _discover(self, upstream: Upstream) -> None:
        for backend in upstream.backends.order():  # the first server that answers speaks for all
            try:
                response = await self.client.get(
                    f"{backend.url}/models", headers=upstream.headers(), timeout=upstream.config.timeouts.connect_s + 3
                )
                response.raise_for_status()
                listed = response.json().get("data", [])
                key = upstream.config.api_key()
                # Model names reach clients (/v1/models): none that is not a string or quotes our key.
                upstream.models = {
                    m["id"]
                    for m in listed
                    if isinstance(m, dict) and isinstance(m.get("id"), str) and not (key and key in m["id"])
                }
                return
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                log.warning(
                    "upstream %s: %s could not list models (%s)", upstream.name, backend.url, type(exc).__name__
                )

    def models(self) -> list[str]:
        return sorted({m for u in self.upstreams for m in u.models})

    async def resolve(self, model: str) -> Upstream:
        """The upstream serving `model`; asks discovering upstreams again (at most every 2 s)
        so a backend that came up after the gateway is found."""
        try:
            return self.for_model(model)
        except OpenAIError:
            if time.monotonic() - self._discovered_at < 2.0 or all(u.config.models for u in self.upstreams):
                raise
        await self.discover_models()
        return self.for_model(model)

    def for_model(self, model: str) -> Upstream:
        for upstream in self.upstreams:
            if model in upstream.models:
                return upstream
        raise OpenAIError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            param="model",
            code="model_not_found",
        )

    async def open(
        self, upstream: Upstream, path: str, body: dict, hints: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """Send the request and return the response with its body not yet read. `hints`
        (gateway/upstream/hints.py: category, SLO, tenant) go only to an upstream marked
        `semgate_headers`; any other never sees them.

        Raises OpenAIError for a connection failure (502), a timeout (504), or an upstream
        error status (passed through with its body), after the allowed retries; fails fast
        (503, or 429 after the upstream asked to back off) while its circuit breaker refuses.
        """
        refusal = upstream.breaker.refusal()
        if refusal is not None:
            raise _refused(upstream, refusal.status, refusal.retry_after_header)
        cfg = upstream.config
        timeout = httpx.Timeout(cfg.timeouts.read_s, connect=cfg.timeouts.connect_s)
        content = orjson.dumps(body)
        headers = {
            "content-type": "application/json",
            **(hints if hints and cfg.semgate_headers else {}),
            **upstream.headers(),
        }
        order = upstream.backends.order(body)
        # Every server is tried once before one is tried again (failover), then the retries.
        attempts = cfg.retries + len(order)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            backend = order[attempt % len(order)]
            request = self.client.build_request(
                "POST", f"{backend.url}{path}", content=content, headers=headers, timeout=timeout
            )
            started = time.monotonic()
            upstream.stats.in_flight += 1
            upstream.stats.requests += 1
            backend.in_flight += 1
            backend.requests += 1
            try:
                response = await self.client.send(request, stream=True)
            except httpx.TransportError as exc:
                upstream.stats.in_flight -= 1
                backend.in_flight -= 1
                backend.failures += 1
                upstream.stats.record(started, False, None)
                upstream.breaker.failed()
                # A read timeout means the upstream accepted the work: retrying would double it.
                if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
                    raise OpenAIError(
                        504, f"Upstream {upstream.name} timed out ({type(exc).__name__}).", code="upstream_timeout"
                    ) from exc
                if len(order) > 1:
                    backend.mark_down(type(exc).__name__)  # until a health check finds it again
                if last or upstream.breaker.state != CLOSED:
                    raise OpenAIError(
                        502,
                        f"Upstream {upstream.name} is unreachable ({type(exc).__name__}).",
                        code="upstream_unreachable",
                    ) from exc
                continue
            except BaseException:  # cancelled: the client went away, or the answer's deadline passed
                upstream.stats.in_flight -= 1
                backend.in_flight -= 1
                upstream.stats.record(started, False, None, cancelled=True)
                upstream.breaker.abandoned()
                raise
            response.extensions["semgate_backend"] = backend
            if response.status_code < 400:
                backend.observe(time.monotonic() - started)
                response.extensions["semgate_started"] = started
                return response
            if response.status_code == CLIENT_CLOSED:
                # The upstream cancelled the work (a request it saw go away, its own shutdown): no fault.
                upstream.breaker.abandoned()
                await self._close(upstream, response, started, ok=False, cancelled=True)
                raise OpenAIError(502, f"Upstream {upstream.name} cancelled the request.", code="upstream_cancelled")
            backend.failures += 1
            await self._close(upstream, response, started, ok=False)
            if response.status_code == 429:
                upstream.breaker.throttle(response.headers.get("retry-after"))
            elif response.status_code >= 500:
                upstream.breaker.failed()
            else:
                upstream.breaker.succeeded()  # alive: a 4xx is about the request, not the upstream
            if response.status_code in _RETRY_STATUS and not last and upstream.breaker.state == CLOSED:
                continue
            raise await _passthrough_error(response, upstream.config.api_key())
        raise AssertionError("unreachable: the last attempt always returns or raises")

    async def close(self, upstream: Upstream, response: httpx.Response, ok: bool, upstream_fault: bool = True) -> None:
        """`ok`: the answer was read whole. Not ok and not `upstream_fault`: the client went away,
        which says nothing about the upstream's health."""
        if ok:
            upstream.breaker.succeeded()
        elif upstream_fault:
            upstream.breaker.failed()
        else:
            upstream.breaker.abandoned()
        await self._close(
            upstream,
            response,
            response.extensions.get("semgate_started", time.monotonic()),
            ok,
            cancelled=not ok and not upstream_fault,
        )

    async def _close(
        self, upstream: Upstream, response: httpx.Response, started: float, ok: bool, cancelled: bool = False
    ) -> None:
        if not response.is_closed:
            if response.status_code >= 400:
                await _read_quietly(response)
            await response.aclose()
        upstream.stats.in_flight -= 1
        backend: Backend | None = response.extensions.get("semgate_backend")
        if backend is not None:
            backend.in_flight -= 1
        upstream.stats.record(started, ok, response.status_code, cancelled)


def _refused(upstream: Upstream, status: int, retry_after: str) -> OpenAIError:
    if status == 429:
        return OpenAIError(
            429,
            f"Upstream {upstream.name} asked to slow down; try again in {retry_after} s.",
            code="upstream_rate_limited",
            headers={"retry-after": retry_after},
        )
    breaker = upstream.breaker
    return OpenAIError(
        503,
        f"Upstream {upstream.name} is unavailable: its circuit breaker opened after "
        f"{breaker.settings.failures} consecutive failures; try again in {retry_after} s.",
        code="upstream_circuit_open",
        headers={"retry-after": retry_after},
    )


async def _read_quietly(response: httpx.Response) -> None:
    with contextlib.suppress(httpx.HTTPError):
        await response.aread()


async def _passthrough_error(response: httpx.Response, api_key: str | None) -> OpenAIError:
    """An upstream 4xx/5xx reaches the client with its status and its own message, less any
    credential in it (an upstream that quotes back the key it was sent)."""
    status = response.status_code
    secrets = [api_key] if api_key else []
    try:
        error = orjson.loads(response.content).get("error")
    except (orjson.JSONDecodeError, AttributeError, httpx.ResponseNotRead):
        error = None
    headers = {k: redact(v, secrets) for k, v in response.headers.items() if k.lower() == "retry-after"}
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        param, code, type_ = (_redacted_text(error.get(k), secrets) for k in ("param", "code", "type"))
        return OpenAIError(
            status, redact(error["message"], secrets), param=param, code=code, type_=type_, headers=headers
        )
    text = response.content[:500].decode("utf-8", errors="replace") if response.is_stream_consumed else ""
    return OpenAIError(
        status,
        redact(f"Upstream returned HTTP {status}: {text}".rstrip(": "), secrets),
        code="upstream_error",
        headers=headers,
    )


def _redacted_text(value: object, secrets: list[str]) -> str | None:
    """An error field passed on only as a string (the error shape), and never with a secret in it."""
    return redact(value, secrets) if isinstance(value, str) else None
