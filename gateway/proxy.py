"""The OpenAI routes: authenticate, validate, consult the cache, forward, relay, store.

Streams are relayed chunk by chunk as they arrive while a recorder rebuilds the answer;
a client that goes away cancels the relay, which closes the upstream response and so
cancels the upstream request. Only an answer that completed is stored.
"""

import logging
import time
from collections.abc import Mapping, Sequence

import anyio
import httpx
import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from gateway.auth import TenantResolver
from gateway.caching import CacheDecision, CacheLayer
from gateway.config import Limits
from gateway.errors import OpenAIError
from gateway.replay import fresh_completion, sse_chunks
from gateway.sse import encode
from gateway.stale_if_error import stale_decision
from gateway.stats import RequestTrace, TraceRecorder
from gateway.stream_recorder import StreamRecorder
from gateway.stream_scrub import StreamScrubber
from gateway.upstream import Upstream, UpstreamPool
from gateway.upstream_hints import client_slo, upstream_hints
from gateway.upstream_load import FirstTokenWatch
from gateway.wire import CHAT, COMPLETION, ParsedRequest, parse_request

log = logging.getLogger("semgate.proxy")
_PATHS = {CHAT: "/chat/completions", COMPLETION: "/completions"}
_BYPASS = {"x-semgate-cache": "bypass"}


class Proxy:
    def __init__(self, resolver: TenantResolver, pool: UpstreamPool, limits: Limits, cache: CacheLayer | None,
                 recorders: Sequence[TraceRecorder] = ()) -> None:
        self.resolver = resolver
        self.pool = pool
        self.limits = limits
        self.cache = cache
        self.recorders = recorders  # each finished request's trace goes to every one (stats, metrics)
        self.incontext = None  # IC-Cache (gateway/incontext/service.py), bound once the cache has started

    async def chat_completions(self, request: Request) -> Response:
        return await self._handle(request, CHAT)

    async def completions(self, request: Request) -> Response:
        return await self._handle(request, COMPLETION)

    async def _handle(self, request: Request, kind: str) -> Response:
        trace = RequestTrace()
        try:
            tenant = trace.tenant = self.resolver.resolve(request.headers.get("authorization"))
            client_objectives = client_slo(request.headers)
            parsed = parse_request(await read_body(request, self.limits.max_body_bytes), kind, self.limits)
            served = self.incontext.served_model(parsed.model) if self.incontext else parsed.model
            upstream = await self.pool.resolve(served)
            trace.model, trace.upstream = parsed.model, upstream.name  # only served models: labels stay bounded
            started = time.perf_counter()
            decision = await self.cache.consult(tenant, parsed, upstream.name, request.headers) if self.cache else None
            trace.lookup_s = time.perf_counter() - started if decision is not None else None
            if self.incontext and decision is not None:
                await self.incontext.observe(tenant, parsed, decision)
        except OpenAIError as exc:
            return self._finish(trace, exc.response(_BYPASS))
        if decision is not None and decision.hit:
            trace.served_from(decision.lookup.entry.response, decision.lookup.entry.id)
            return self._finish(trace, _answer_from_cache(decision, parsed))
        try:  # IC-Cache: the model to route to and the examples to give it (gateway/incontext/)
            route = None
            if self.incontext and decision is not None:
                route = await self.incontext.plan(tenant, parsed, decision, request.headers)
        except OpenAIError as exc:
            return self._finish(trace, exc.response(decision.headers(stored=False)))
        if route is not None:
            decision.route, upstream, trace.routed_model = route, route.upstream, route.model.name
            trace.upstream = upstream.name
        headers = decision.headers() if decision is not None else _BYPASS
        hints = upstream_hints(decision.policy.name if decision else None, decision.slo if decision else None,
                               client_objectives, tenant)
        try:
            response = await self.pool.open(upstream, _PATHS[kind], route.body if route else parsed.body, hints)
        except OpenAIError as exc:
            failed = decision.headers(stored=False) if decision is not None else _BYPASS  # an error is never kept
            return self._finish(trace, await self._upstream_failed(exc, failed, decision, tenant, parsed, trace))
        if parsed.stream:
            store = _StreamStore(self.cache, decision, tenant, parsed, upstream.name)
            return StreamingResponse(self._relay(upstream, response, store, trace), media_type="text/event-stream",
                                     headers={**headers, "cache-control": "no-cache"})
        answer = await self._forward_whole(upstream, response, parsed, decision, tenant, trace)
        trace.upstream_s = _elapsed(response)
        return self._finish(trace, answer)

    def _finish(self, trace: RequestTrace, response: Response) -> Response:
        self._record(trace, response.status_code, response.headers)
        return response

    def _record(self, trace: RequestTrace, status: int, headers: Mapping[str, str]) -> None:
        trace.finish(status, headers)
        for recorder in self.recorders:
            recorder.record(trace)

    async def _upstream_failed(self, error: OpenAIError, headers: dict[str, str], decision: CacheDecision | None,
                               tenant: str, parsed: ParsedRequest, trace: RequestTrace) -> Response:
        """The upstream's error, or an expired entry where the category allows stale-if-error."""
        stale = await stale_decision(self.cache, decision, tenant, parsed, error)
        if stale is None:
            return error.response(headers)
        trace.served_from(stale.lookup.entry.response, stale.lookup.entry.id)
        return _answer_from_cache(stale, parsed)

    async def _forward_whole(self, upstream: Upstream, response: httpx.Response, parsed: ParsedRequest,
                             decision: CacheDecision | None, tenant: str, trace: RequestTrace) -> Response:
        try:
            body = await response.aread()
        except httpx.HTTPError as exc:
            await self.pool.close(upstream, response, ok=False)
            error = OpenAIError(502, f"Upstream {upstream.name} failed while answering ({type(exc).__name__}).",
                                code="upstream_interrupted")
            headers = decision.headers(stored=False) if decision else _BYPASS
            return await self._upstream_failed(error, headers, decision, tenant, parsed, trace)
        await self.pool.close(upstream, response, ok=True)
        label = decision.route.label() if decision is not None and decision.route is not None else None
        if label is not None:
            body = label.whole(body)
        headers = _BYPASS
        if decision is not None:
            stored = False
            if decision.may_store and response.status_code == 200:
                stored = await self.cache.remember(decision, tenant, parsed, _json_or_none(body), upstream.name)
            headers = decision.headers(stored=stored)
        return Response(body, status_code=response.status_code, media_type="application/json", headers=headers)

    async def _relay(self, upstream: Upstream, response: httpx.Response, store: "_StreamStore", trace: RequestTrace):
        ok = stored = broke = committed = False
        scrubber = StreamScrubber([upstream.config.api_key() or ""])
        route = store.decision.route if store.decision is not None else None
        label = route.label() if route is not None else None
        first_token = FirstTokenWatch(upstream, response)  # a load signal (gateway/upstream_load.py)
        try:
            async for chunk in response.aiter_raw():
                first_token.feed(chunk)
                chunk = scrubber.feed(chunk)
                if label is not None:
                    chunk = label.feed(chunk)
                if chunk:
                    store.feed(chunk)
                    if not committed and store.complete:
                        # Stored before the client reads the end: a repeat sent right after it hits.
                        with anyio.CancelScope(shield=True):
                            stored, committed = await store.commit(), True
                    yield chunk
            rest = scrubber.flush()
            if label is not None:
                rest = label.feed(rest) + label.flush()
            if rest:
                store.feed(rest)
                yield rest
            ok = True
        except httpx.HTTPError as exc:
            broke = True
            # Headers are gone already: tell the client in the stream, as OpenAI does.
            error = OpenAIError(502, f"Upstream {upstream.name} stream broke off ({type(exc).__name__}).",
                                code="upstream_interrupted")
            yield encode(error.body())
        finally:
            # Runs on client disconnect too, inside a cancelled scope: shield the cleanup.
            with anyio.CancelScope(shield=True):
                await self.pool.close(upstream, response, ok=ok, upstream_fault=broke)
                if ok and not committed:
                    stored = await store.commit()
            trace.upstream_s = _elapsed(response)
            decision = store.decision
            self._record(trace, 200 if ok else 502, decision.headers(stored=stored) if decision else _BYPASS)


class _StreamStore:
    """Records a relayed stream and stores it once it completed (never a cut or failed one)."""

    def __init__(self, cache: CacheLayer | None, decision: CacheDecision | None, tenant: str,
                 parsed: ParsedRequest, producer: str) -> None:
        self.recorder = StreamRecorder(parsed.kind) if cache and decision and decision.may_store else None
        self.cache, self.decision, self.tenant, self.parsed, self.producer = cache, decision, tenant, parsed, producer

    def feed(self, chunk: bytes) -> None:
        if self.recorder is not None:
            self.recorder.feed(chunk)

    @property
    def complete(self) -> bool:
        return self.recorder is not None and self.recorder.complete

    async def commit(self) -> bool:
        """Store the answer if it completed; whether it was stored."""
        if self.recorder is not None and self.recorder.complete:
            return await self.cache.remember(self.decision, self.tenant, self.parsed, self.recorder.completion(),
                                             self.producer)
        return False


def _elapsed(response: httpx.Response) -> float | None:
    """Upstream time from sending the request to closing its answer."""
    try:
        return response.elapsed.total_seconds()
    except RuntimeError:  # never closed: it failed before its answer was read
        return None


def _answer_from_cache(decision: CacheDecision, parsed: ParsedRequest) -> Response:
    cached = decision.lookup.entry.response
    headers = decision.headers()
    if parsed.stream:
        # The whole answer is known: one write, in the chunk format the SDK iterates over.
        chunks = sse_chunks(cached, parsed.kind, parsed.model, parsed.include_usage,
                            decision.policy.stream_replay.chunk_tokens)
        return Response(b"".join(chunks), media_type="text/event-stream", headers={**headers, "cache-control": "no-cache"})
    return Response(orjson.dumps(fresh_completion(cached, parsed.kind, parsed.model)), media_type="application/json",
                    headers=headers)


def _json_or_none(body: bytes) -> dict | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise OpenAIError(400, "The client closed the connection before the body was complete.", code="client_disconnected") from exc
    return b"".join(chunks)


def _too_large(limit: int) -> OpenAIError:
    return OpenAIError(413, f"Request body is larger than the limit of {limit} bytes.", code="request_too_large")
