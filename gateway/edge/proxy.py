"""The OpenAI routes: authenticate, validate, consult the cache, forward, relay, store.

Streams are relayed event by event as they arrive while a recorder rebuilds the answer; every
answer is checked, scrubbed and bounded on its way (gateway/relay/answer_check.py). A client that goes away,
streaming or not, cancels the upstream request: its connection is closed, so the upstream stops
working on it. Only an answer that completed is stored.
"""

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import anyio
import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.relay.answer_shape import completion_problem
from gateway.edge.auth import TenantResolver
from gateway.cache.step import CacheDecision, CacheLayer
from gateway.edge.client_io import read_body, until_disconnect
from gateway.config import Limits
from gateway.edge.errors import OpenAIError
from gateway.relay.answer_check import AnswerBounds, AnswerRefused, StreamChecker, next_piece, read_whole
from gateway.relay.cached_answer import fresh_completion, sse_chunks
from gateway.relay.sse import encode
from gateway.cache.stale_if_error import stale_decision
from gateway.observe.stats import RequestTrace, TraceRecorder
from gateway.relay.recorder import StreamRecorder
from gateway.relay.scrub import scrub
from gateway.upstream.pool import Upstream, UpstreamPool
from gateway.upstream.hints import client_slo, upstream_hints
from gateway.upstream.load import FirstTokenWatch
from gateway.edge.wire import CHAT, COMPLETION, ParsedRequest, parse_request

log = logging.getLogger("semgate.proxy")
_PATHS = {CHAT: "/chat/completions", COMPLETION: "/completions"}
_BYPASS = {"x-semgate-cache": "bypass"}
CLIENT_GONE = 499  # recorded for a request whose client went away before its answer (nobody reads it)


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
            tenant = trace.tenant = self.resolver.resolve(request.headers)
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
        if decision is not None and decision.hit and completion_problem(decision.lookup.entry.response, parsed.kind):
            # Stored before answers were checked (an upstream's list `content`, say): replaying it would fail, so
            # the request goes upstream as a miss, and its answer replaces the entry.
            log.warning("cache entry %s is not an OpenAI answer; answering from upstream", decision.lookup.entry.id)
            decision.lookup = None
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
        call = _UpstreamCall(upstream, _PATHS[kind], route.body if route else parsed.body, hints,
                             AnswerBounds.starting_now(upstream.name, self.limits.max_answer_bytes,
                                                       upstream.config.timeouts.total_s))
        if parsed.stream:
            return await self._stream(request, call, parsed, decision, tenant, trace, headers)
        # A client that goes away cancels the upstream request, streamed or not (the backend stops generating).
        answer = await until_disconnect(request, lambda: self._answer_whole(call, parsed, decision, tenant, trace))
        return self._finish(trace, answer or Response(status_code=CLIENT_GONE))

    async def _open(self, call: "_UpstreamCall") -> httpx.Response:
        """The upstream's response, its body not yet read, within the answer's deadline."""
        try:
            async with asyncio.timeout(call.bounds.remaining_s()):
                return await self.pool.open(call.upstream, call.path, call.body, call.hints)
        except TimeoutError:
            call.upstream.breaker.failed()
            raise call.bounds.too_late().error from None

    async def _stream(self, request: Request, call: "_UpstreamCall", parsed: ParsedRequest,
                      decision: CacheDecision | None, tenant: str, trace: RequestTrace,
                      headers: dict[str, str]) -> Response:
        try:
            response = await until_disconnect(request, lambda: self._open(call))
        except OpenAIError as exc:
            return self._finish(trace, await self._upstream_failed(exc, decision, tenant, parsed, trace))
        if response is None:
            return self._finish(trace, Response(status_code=CLIENT_GONE))
        store = _StreamStore(self.cache, decision, tenant, parsed, call.upstream.name)
        return StreamingResponse(self._relay(call, response, store, trace), media_type="text/event-stream",
                                 headers={**headers, "cache-control": "no-cache"})

    async def _answer_whole(self, call: "_UpstreamCall", parsed: ParsedRequest, decision: CacheDecision | None,
                            tenant: str, trace: RequestTrace) -> Response:
        try:
            response = await self._open(call)
        except OpenAIError as exc:
            return await self._upstream_failed(exc, decision, tenant, parsed, trace)
        answer = await self._forward_whole(call, response, parsed, decision, tenant, trace)
        trace.upstream_s = _elapsed(response)
        return answer

    def _finish(self, trace: RequestTrace, response: Response) -> Response:
        self._record(trace, response.status_code, response.headers)
        return response

    def _record(self, trace: RequestTrace, status: int, headers: Mapping[str, str]) -> None:
        trace.finish(status, headers)
        for recorder in self.recorders:
            recorder.record(trace)

    async def _upstream_failed(self, error: OpenAIError, decision: CacheDecision | None, tenant: str,
                               parsed: ParsedRequest, trace: RequestTrace) -> Response:
        """The upstream's error, or an expired entry where the category allows stale-if-error."""
        stale = await stale_decision(self.cache, decision, tenant, parsed, error)
        if stale is None:
            return error.response(decision.headers(stored=False) if decision is not None else _BYPASS)  # never kept
        trace.served_from(stale.lookup.entry.response, stale.lookup.entry.id)
        return _answer_from_cache(stale, parsed)

    async def _forward_whole(self, call: "_UpstreamCall", response: httpx.Response, parsed: ParsedRequest,
                             decision: CacheDecision | None, tenant: str, trace: RequestTrace) -> Response:
        upstream = call.upstream
        try:
            body = scrub(await read_whole(response, call.bounds), [upstream.config.api_key() or ""])
            answer = _json_or_none(body)
            problem = completion_problem(answer, parsed.kind) if answer is not None else "the body is not JSON"
            if problem is not None:
                raise call.bounds.malformed(problem)
        except (httpx.HTTPError, AnswerRefused) as exc:
            await self.pool.close(upstream, response, ok=False)
            error = exc.error if isinstance(exc, AnswerRefused) else OpenAIError(
                502, f"Upstream {upstream.name} failed while answering ({type(exc).__name__}).",
                code="upstream_interrupted")
            return await self._upstream_failed(error, decision, tenant, parsed, trace)
        except BaseException:  # cancelled: the client went away while the upstream was answering
            with anyio.CancelScope(shield=True):
                await self.pool.close(upstream, response, ok=False, upstream_fault=False)
            raise
        await self.pool.close(upstream, response, ok=True)
        label = decision.route.label() if decision is not None and decision.route is not None else None
        if label is not None:
            body = label.whole(body)
        headers = _BYPASS
        if decision is not None:
            stored = False
            if decision.may_store and response.status_code == 200:
                stored = await self.cache.remember(decision, tenant, parsed, answer, upstream.name)
            headers = decision.headers(stored=stored)
        return Response(body, status_code=response.status_code, media_type="application/json", headers=headers)

    async def _relay(self, call: "_UpstreamCall", response: httpx.Response, store: "_StreamStore",
                     trace: RequestTrace):
        upstream = call.upstream
        ok = stored = fault = committed = False
        checker = StreamChecker(store.parsed.kind, [upstream.config.api_key() or ""], call.bounds)
        route = store.decision.route if store.decision is not None else None
        label = route.label() if route is not None else None
        first_token = FirstTokenWatch(upstream, response)  # a load signal (gateway/upstream/load.py)
        pieces = response.aiter_bytes()  # decoded: an upstream may compress its answer
        try:
            while (piece := await next_piece(pieces, call.bounds)) is not None:
                first_token.feed(piece)
                events = checker.feed(piece)
                if events:
                    for _, event in events:
                        store.add(event)
                    if not committed and store.complete:
                        # Stored before the client reads the end: a repeat sent right after it hits.
                        with anyio.CancelScope(shield=True):
                            stored, committed = await store.commit(), True
                    data = b"".join(data for data, _ in events)
                    yield label.feed(data) if label is not None else data
            events = checker.finish()
            for _, event in events:
                store.add(event)
            rest = b"".join(data for data, _ in events)
            if label is not None:
                rest = label.feed(rest) + label.flush()
            if rest:
                yield rest
            ok = True
        except (httpx.HTTPError, AnswerRefused) as exc:
            fault = True
            # Headers are gone already: tell the client in the stream, as OpenAI does.
            error = exc.error if isinstance(exc, AnswerRefused) else OpenAIError(
                502, f"Upstream {upstream.name} stream broke off ({type(exc).__name__}).", code="upstream_interrupted")
            yield encode(error.body())
        finally:
            # Runs on client disconnect too, inside a cancelled scope: shield the cleanup.
            with anyio.CancelScope(shield=True):
                await self.pool.close(upstream, response, ok=ok, upstream_fault=fault)
                if ok and not committed:
                    stored = await store.commit()
            trace.upstream_s = _elapsed(response)
            decision = store.decision
            self._record(trace, 200 if ok else 502, decision.headers(stored=stored) if decision else _BYPASS)


@dataclass(frozen=True)
class _UpstreamCall:
    """One request to send upstream, and the bounds its answer must keep."""

    upstream: Upstream
    path: str
    body: dict
    hints: dict[str, str]
    bounds: AnswerBounds


class _StreamStore:
    """Records a relayed stream and stores it once it completed (never a cut or failed one)."""

    def __init__(self, cache: CacheLayer | None, decision: CacheDecision | None, tenant: str,
                 parsed: ParsedRequest, producer: str) -> None:
        self.recorder = StreamRecorder(parsed.kind) if cache and decision and decision.may_store else None
        self.cache, self.decision, self.tenant, self.parsed, self.producer = cache, decision, tenant, parsed, producer

    def add(self, event: dict | str) -> None:
        if self.recorder is not None:
            self.recorder.add(event)

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
