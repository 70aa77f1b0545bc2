"""The request path every route runs: authenticate, validate, consult the cache, forward, relay, store.

The OpenAI routes run it as it is; another API's route (gateway/protocols/: Responses, Anthropic
Messages) hands it a WireAdapter (gateway/edge/wire_adapter.py) that parses its body into a chat body
and renders errors, answers and streams in its own shape.

Streams are relayed event by event as they arrive while a recorder rebuilds the answer; every
answer is checked, scrubbed and bounded on its way (gateway/relay/answer_check.py). A client that goes away,
streaming or not, cancels the upstream request: its connection is closed, so the upstream stops
working on it. Only an answer that completed is stored.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import anyio
import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gateway.cache.decision import BYPASSED, CacheHit, Decision
from gateway.cache.off import CacheOff
from gateway.cache.step import CacheLayer
from gateway.edge.auth import TenantResolver
from gateway.edge.client_io import until_disconnect
from gateway.edge.errors import OpenAIError
from gateway.edge.limits import Limits
from gateway.edge.request import GatewayRequest, Reception
from gateway.edge.wire import CHAT, COMPLETION, answer_format
from gateway.edge.wire_adapter import NativeCall, OpenAIAdapter, WireAdapter
from gateway.incontext.off import RoutingOff
from gateway.incontext.plan import Plan
from gateway.incontext.service import InContextService
from gateway.observe.stats import RequestTrace, TraceRecorder
from gateway.relay.answer_check import AnswerBounds, AnswerRefused, StreamChecker, next_piece, read_whole
from gateway.relay.answer_shape import completion_problem
from gateway.relay.cached_answer import fresh_completion, sse_chunks
from gateway.relay.recorder import StreamRecorder
from gateway.relay.scrub import scrub
from gateway.relay.sse import encode
from gateway.upstream.hints import upstream_hints
from gateway.upstream.load import FirstTokenWatch
from gateway.upstream.pool import Upstream, UpstreamPool
from gateway.upstream.transport import BodyPieces

log = logging.getLogger(__name__)
_PATHS = {CHAT: "/chat/completions", COMPLETION: "/completions"}
CLIENT_GONE = 499  # recorded for a request whose client went away before its answer (nobody reads it)


class Proxy:
    """The request path, built once the cache has started (gateway/app.py's lifespan): the cache and IC-Cache
    are always there, as do-nothing parts when off (gateway/cache/off.py, gateway/incontext/off.py)."""

    def __init__(
        self,
        resolver: TenantResolver,
        pool: UpstreamPool,
        limits: Limits,
        cache: CacheLayer | CacheOff,
        incontext: InContextService | RoutingOff,
        recorders: Sequence[TraceRecorder] = (),
    ) -> None:
        self.pool = pool
        self.limits = limits
        self.cache = cache
        self.incontext = incontext
        self.recorders = recorders  # each finished request's trace goes to every one (stats, metrics)
        self.reception = Reception(resolver, pool, limits, incontext.served_model, cache.controls)

    async def handle(self, http: Request, wire: str, adapter: WireAdapter | None = None) -> Response:
        """`adapter`: the route's parser and renderer (gateway/edge/wire_adapter.py); the OpenAI one by default."""
        adapter = adapter or OpenAIAdapter(wire, self.limits)
        trace = RequestTrace()
        try:
            request = await self.reception.receive(http, adapter, trace)
            started = time.perf_counter()
            decision = await self.cache.consult(request)
            trace.lookup_s = time.perf_counter() - started if decision.looked_up else None
            await self.incontext.observe(request, decision)
        except OpenAIError as exc:
            return self._finish(trace, adapter.error(exc, _signals(trace, BYPASSED)))
        served = decision.served
        if served is not None and completion_problem(served.entry.response, request.answer_format):
            # Stored before answers were checked (an upstream's list `content`, say): replaying it would fail, so
            # the request goes upstream as a miss, and its answer replaces the entry.
            log.warning("cache entry %s is not an OpenAI answer; answering from upstream", served.entry.id)
            decision, served = decision.without_hit(), None
        if served is not None:
            trace.served_from(served.entry.response, served.entry.id)
            hit = await _answer_from_cache(served, request, _signals(trace, decision), adapter)
            return self._finish(trace, hit)
        try:  # IC-Cache: the model to route to and the examples to give it (gateway/incontext/)
            plan = await self.incontext.plan(request, decision)
        except OpenAIError as exc:
            return self._finish(trace, adapter.error(exc, _signals(trace, decision, stored=False)))
        upstream = plan.upstream
        trace.upstream, trace.routed_model = upstream.name, plan.routed_model
        headers = {**_signals(trace, decision), **plan.headers()}
        hints = upstream_hints(decision.category, decision.slo, request.slo, request.tenant)
        call = _UpstreamCall(
            plan,
            adapter,
            adapter.native(upstream.config, plan.body),
            hints,
            AnswerBounds.starting_now(
                upstream.name,
                self.limits.max_answer_bytes,
                upstream.config.timeouts.total_s,
                upstream.config.timeouts.read_s,
            ),
        )
        if request.stream:
            return await self._stream(http, call, request, decision, trace, headers)
        # A client that goes away cancels the upstream request, streamed or not (the backend stops generating).
        answer = await until_disconnect(http, lambda: self._answer_whole(call, request, decision, trace))
        return self._finish(trace, answer or Response(status_code=CLIENT_GONE))

    async def _open(self, call: "_UpstreamCall") -> httpx.Response:
        """The upstream's response, its body not yet read, within the answer's deadline."""
        try:
            async with asyncio.timeout(call.bounds.remaining_s()):
                return await self.pool.open(call.upstream, call.path, call.body, call.hints)
        except TimeoutError:
            call.upstream.breaker.failed()
            raise call.bounds.too_late().error from None

    async def _stream(
        self,
        http: Request,
        call: "_UpstreamCall",
        request: GatewayRequest,
        decision: Decision,
        trace: RequestTrace,
        headers: dict[str, str],
    ) -> Response:
        try:
            response = await until_disconnect(http, lambda: self._open(call))
        except OpenAIError as exc:
            return self._finish(trace, await self._upstream_failed(exc, decision, request, trace, call))
        if response is None:
            return self._finish(trace, Response(status_code=CLIENT_GONE))
        store = _StreamStore(self.cache, decision, request, call.plan)
        return StreamingResponse(
            call.adapter.stream(self._relay(call, response, store, trace)),
            media_type="text/event-stream",
            headers={**headers, "cache-control": "no-cache"},
        )

    async def _answer_whole(
        self, call: "_UpstreamCall", request: GatewayRequest, decision: Decision, trace: RequestTrace
    ) -> Response:
        try:
            response = await self._open(call)
        except OpenAIError as exc:
            return await self._upstream_failed(exc, decision, request, trace, call)
        answer = await self._forward_whole(call, response, request, decision, trace)
        trace.upstream_s = _elapsed(response)
        return answer

    def _finish(self, trace: RequestTrace, response: Response) -> Response:
        self._record(trace, response.status_code)
        return response

    def _record(self, trace: RequestTrace, status: int) -> None:
        trace.finish(status)
        for recorder in self.recorders:
            recorder.record(trace)

    async def _upstream_failed(
        self,
        error: OpenAIError,
        decision: Decision,
        request: GatewayRequest,
        trace: RequestTrace,
        call: "_UpstreamCall",
    ) -> Response:
        """The upstream's error, or an expired entry where the category allows stale-if-error."""
        stale = await self.cache.stale(decision, request, error)
        served = stale.served if stale is not None else None
        if stale is None or served is None:  # never kept
            return call.adapter.error(error, {**_signals(trace, decision, stored=False), **call.plan.headers()})
        trace.served_from(served.entry.response, served.entry.id)
        return await _answer_from_cache(served, request, _signals(trace, stale), call.adapter)

    async def _forward_whole(
        self,
        call: "_UpstreamCall",
        response: httpx.Response,
        request: GatewayRequest,
        decision: Decision,
        trace: RequestTrace,
    ) -> Response:
        upstream = call.upstream
        try:
            raw = await read_whole(response, call.bounds)
            body = scrub(call.native.whole(raw) if call.native else raw, [upstream.config.api_key() or ""])
            answer = _json_or_none(body)
            problem = (
                completion_problem(answer, request.answer_format) if answer is not None else "the body is not JSON"
            )
            if problem is not None:
                raise call.bounds.malformed(problem)
        except (httpx.HTTPError, AnswerRefused) as exc:
            await self.pool.close(upstream, response, ok=False)
            error = (
                exc.error
                if isinstance(exc, AnswerRefused)
                else OpenAIError(
                    502,
                    f"Upstream {upstream.name} failed while answering ({type(exc).__name__}).",
                    code="upstream_interrupted",
                )
            )
            return await self._upstream_failed(error, decision, request, trace, call)
        except BaseException:  # cancelled: the client went away while the upstream was answering
            with anyio.CancelScope(shield=True):
                await self.pool.close(upstream, response, ok=False, upstream_fault=False)
            raise
        await self.pool.close(upstream, response, ok=True)
        label = call.plan.label()
        if label is not None:
            body = label.whole(body)
        stored = False
        if decision.may_store and response.status_code == 200:
            entry_id = await self.cache.remember(decision, request, answer, call.plan.producer, call.plan.example_ids)
            call.plan.settle(answer, entry_id)
            stored = entry_id is not None
        headers = {**_signals(trace, decision, stored), **call.plan.headers()}
        return await call.adapter.whole(body, response.status_code, headers)

    async def _relay(
        self, call: "_UpstreamCall", response: httpx.Response, store: "_StreamStore", trace: RequestTrace
    ) -> AsyncIterator[bytes]:
        upstream = call.upstream
        ok = stored = fault = committed = False
        checker = StreamChecker(store.request.answer_format, [upstream.config.api_key() or ""], call.bounds)
        label = call.plan.label()
        first_token = FirstTokenWatch(upstream, response)  # a load signal (gateway/upstream/load.py)
        pieces = BodyPieces(response)
        try:
            while (piece := await next_piece(pieces, call.bounds)) is not None:
                first_token.feed(piece)
                events = checker.feed(call.native.feed(piece) if call.native else piece)
                if events:
                    for _, event in events:
                        store.add(event)
                    if not committed and store.complete:
                        # Stored before the client reads the end: a repeat sent right after it hits.
                        with anyio.CancelScope(shield=True):
                            stored, committed = await store.commit(), True
                    data = b"".join(data for data, _ in events)
                    yield label.feed(data) if label is not None else data
            events = (checker.feed(call.native.finish()) if call.native else []) + checker.finish()
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
            error = (
                exc.error
                if isinstance(exc, AnswerRefused)
                else OpenAIError(
                    502,
                    f"Upstream {upstream.name} stream broke off ({type(exc).__name__}).",
                    code="upstream_interrupted",
                )
            )
            yield encode(error.body())
        finally:
            # Runs on client disconnect too, inside a cancelled scope: shield the cleanup.
            with anyio.CancelScope(shield=True):
                await self.pool.close(upstream, response, ok=ok, upstream_fault=fault)
                if ok and not committed:
                    stored = await store.commit()
            trace.upstream_s = _elapsed(response)
            _signals(trace, store.decision, stored)
            self._record(trace, 200 if ok else 502)


@dataclass(frozen=True)
class _UpstreamCall:
    """One request to send upstream (where and with which body: the plan), and the bounds its answer must keep."""

    plan: Plan
    adapter: WireAdapter  # renders the answer in the route's API
    native: NativeCall | None  # the upstream asked in the route's own API (None: in the pipeline's)
    hints: dict[str, str]
    bounds: AnswerBounds

    @property
    def upstream(self) -> Upstream:
        return self.plan.upstream

    @property
    def path(self) -> str:
        return self.native.path if self.native else _PATHS[answer_format(self.adapter.wire)]

    @property
    def body(self) -> dict:
        return self.native.body if self.native else self.plan.body


class _StreamStore:
    """Records a relayed stream and stores it once it completed (never a cut or failed one)."""

    def __init__(self, cache: CacheLayer | CacheOff, decision: Decision, request: GatewayRequest, plan: Plan) -> None:
        self.recorder = StreamRecorder(request.answer_format) if decision.may_store else None
        self.cache, self.decision, self.request, self.plan = cache, decision, request, plan

    def add(self, event: dict | str) -> None:
        if self.recorder is not None:
            self.recorder.add(event)

    @property
    def complete(self) -> bool:
        return self.recorder is not None and self.recorder.complete

    async def commit(self) -> bool:
        """Store the answer if it completed; whether it was stored."""
        if self.recorder is not None and self.recorder.complete:
            completion = self.recorder.completion()
            entry_id = await self.cache.remember(
                self.decision, self.request, completion, self.plan.producer, self.plan.example_ids
            )
            self.plan.settle(completion, entry_id)
            return entry_id is not None
        return False


def _elapsed(response: httpx.Response) -> float | None:
    """Upstream time from sending the request to closing its answer."""
    try:
        return response.elapsed.total_seconds()
    except RuntimeError:  # never closed: it failed before its answer was read
        return None


def _signals(trace: RequestTrace, decision: Decision, stored: bool | None = None) -> dict[str, str]:
    """The cache's outcome decided once: recorded in the trace (stats, metrics) and said in the headers."""
    trace.cache = decision.outcome(stored)
    if decision.category is not None:
        trace.category = decision.category
    return decision.headers(trace.cache)


async def _answer_from_cache(
    served: CacheHit, request: GatewayRequest, headers: dict[str, str], adapter: WireAdapter
) -> Response:
    cached = served.entry.response
    kind = request.answer_format
    if request.stream:
        # The whole answer is known: one write, in the chunk format the SDK iterates over (the route's own).
        chunks = b"".join(
            sse_chunks(cached, kind, request.model, request.include_usage, served.policy.stream_replay.chunk_tokens)
        )
        events = b"".join([piece async for piece in adapter.stream(_once(chunks))])
        return Response(events, media_type="text/event-stream", headers={**headers, "cache-control": "no-cache"})
    return await adapter.whole(orjson.dumps(fresh_completion(cached, kind, request.model)), 200, headers)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _json_or_none(body: bytes) -> dict | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
