"""Upstreams: which base URL serves a model, one pooled HTTP client, and error mapping.

Retries happen only while nothing has reached the client yet: on a connection failure or
a 502/503/504 answer before the response starts. Once bytes flow, a failure is reported
to the client in the stream instead of being retried behind its back.
"""

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field

import httpx
import orjson

from gateway.config import UpstreamConfig
from gateway.errors import OpenAIError

log = logging.getLogger("semgate.upstream")
_RETRY_STATUS = {502, 503, 504}


@dataclass
class UpstreamStats:
    in_flight: int = 0
    requests: int = 0
    errors: int = 0
    throttled: int = 0
    # (finished_at, seconds, ok) of recent requests, for load signals and the admin view.
    recent: deque = field(default_factory=lambda: deque(maxlen=512))

    def record(self, started: float, ok: bool, status: int | None) -> None:
        now = time.monotonic()
        self.recent.append((now, now - started, ok))
        if not ok:
            self.errors += 1
        if status in (429, 503):
            self.throttled += 1


@dataclass
class Upstream:
    config: UpstreamConfig
    models: set[str]
    stats: UpstreamStats = field(default_factory=UpstreamStats)

    @property
    def name(self) -> str:
        return self.config.name

    def headers(self) -> dict[str, str]:
        key = self.config.api_key()
        return {"authorization": f"Bearer {key}"} if key else {}


class UpstreamPool:
    def __init__(self, configs: tuple[UpstreamConfig, ...], client: httpx.AsyncClient) -> None:
        self.client = client
        self.upstreams = [Upstream(c, set(c.models)) for c in configs]
        self._discovered_at = float("-inf")

    async def discover_models(self) -> None:
        """Ask upstreams configured without a model list which models they serve."""
        self._discovered_at = time.monotonic()
        await asyncio.gather(*(self._discover(u) for u in self.upstreams if not u.config.models))

    async def _discover(self, upstream: Upstream) -> None:
        try:
            response = await self.client.get(f"{upstream.config.base_url}/models", headers=upstream.headers(),
                                              timeout=upstream.config.timeouts.connect_s + 3)
            response.raise_for_status()
            upstream.models = {m["id"] for m in response.json().get("data", []) if isinstance(m, dict) and "id" in m}
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("upstream %s: could not list models (%s)", upstream.name, type(exc).__name__)

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
        raise OpenAIError(404, f"The model `{model}` does not exist or you do not have access to it.",
                          param="model", code="model_not_found")

    async def open(self, upstream: Upstream, path: str, body: dict) -> httpx.Response:
        """Send the request and return the response with its body not yet read.

        Raises OpenAIError for a connection failure (502), a timeout (504), or an upstream
        error status (passed through with its body), after the allowed retries.
        """
        cfg = upstream.config
        timeout = httpx.Timeout(cfg.timeouts.read_s, connect=cfg.timeouts.connect_s)
        request = self.client.build_request("POST", f"{cfg.base_url}{path}", content=orjson.dumps(body),
                                            headers={"content-type": "application/json", **upstream.headers()},
                                            timeout=timeout)
        attempts = cfg.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            started = time.monotonic()
            upstream.stats.in_flight += 1
            upstream.stats.requests += 1
            try:
                response = await self.client.send(request, stream=True)
            except httpx.TransportError as exc:
                upstream.stats.in_flight -= 1
                upstream.stats.record(started, False, None)
                # A read timeout means the upstream accepted the work: retrying would double it.
                if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
                    raise OpenAIError(504, f"Upstream {upstream.name} timed out ({type(exc).__name__}).",
                                      code="upstream_timeout") from exc
                if last:
                    raise OpenAIError(502, f"Upstream {upstream.name} is unreachable ({type(exc).__name__}).",
                                      code="upstream_unreachable") from exc
                continue
            if response.status_code < 400:
                response.extensions["semgate_started"] = started
                return response
            await self._close(upstream, response, started, ok=False)
            if response.status_code in _RETRY_STATUS and not last:
                continue
            raise await _passthrough_error(response)
        raise AssertionError("unreachable: the last attempt always returns or raises")

    async def close(self, upstream: Upstream, response: httpx.Response, ok: bool) -> None:
        await self._close(upstream, response, response.extensions.get("semgate_started", time.monotonic()), ok)

    async def _close(self, upstream: Upstream, response: httpx.Response, started: float, ok: bool) -> None:
        if not response.is_closed:
            if response.status_code >= 400:
                await _read_quietly(response)
            await response.aclose()
        upstream.stats.in_flight -= 1
        upstream.stats.record(started, ok, response.status_code)


async def _read_quietly(response: httpx.Response) -> None:
    try:
        await response.aread()
    except httpx.HTTPError:
        pass


async def _passthrough_error(response: httpx.Response) -> OpenAIError:
    """An upstream 4xx/5xx reaches the client with its status and its own message."""
    status = response.status_code
    try:
        error = orjson.loads(response.content).get("error")
    except (orjson.JSONDecodeError, AttributeError, httpx.ResponseNotRead):
        error = None
    headers = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return OpenAIError(status, error["message"], param=error.get("param"), code=error.get("code"),
                           type_=error.get("type"), headers=headers)
    text = response.content[:500].decode("utf-8", errors="replace") if response.is_stream_consumed else ""
    return OpenAIError(status, f"Upstream returned HTTP {status}: {text}".rstrip(": "), code="upstream_error", headers=headers)
