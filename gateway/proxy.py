"""The OpenAI routes: authenticate, validate, forward, relay.

Streams are relayed chunk by chunk as they arrive; a client that goes away cancels the
relay, which closes the upstream response and so cancels the upstream request.
"""

import logging

import anyio
import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from gateway.auth import TenantResolver
from gateway.config import Limits
from gateway.errors import OpenAIError
from gateway.sse import encode
from gateway.upstream import Upstream, UpstreamPool
from gateway.wire import CHAT, COMPLETION, ParsedRequest, parse_request

log = logging.getLogger("semgate.proxy")
_PATHS = {CHAT: "/chat/completions", COMPLETION: "/completions"}
_BYPASS = {"x-semgate-cache": "bypass"}


class Proxy:
    def __init__(self, resolver: TenantResolver, pool: UpstreamPool, limits: Limits) -> None:
        self.resolver = resolver
        self.pool = pool
        self.limits = limits

    async def chat_completions(self, request: Request) -> Response:
        return await self._handle(request, CHAT)

    async def completions(self, request: Request) -> Response:
        return await self._handle(request, COMPLETION)

    async def _handle(self, request: Request, kind: str) -> Response:
        try:
            self.resolver.resolve(request.headers.get("authorization"))
            parsed = parse_request(await read_body(request, self.limits.max_body_bytes), kind, self.limits.max_messages)
            upstream = await self.pool.resolve(parsed.model)
            response = await self.pool.open(upstream, _PATHS[kind], parsed.body)
        except OpenAIError as exc:
            return exc.response(_BYPASS)
        if parsed.stream:
            return StreamingResponse(self._relay(upstream, response), media_type="text/event-stream",
                                     headers={**_BYPASS, "cache-control": "no-cache"})
        return await self._forward_whole(upstream, response, parsed)

    async def _forward_whole(self, upstream: Upstream, response: httpx.Response, parsed: ParsedRequest) -> Response:
        try:
            body = await response.aread()
        except httpx.HTTPError as exc:
            await self.pool.close(upstream, response, ok=False)
            return OpenAIError(502, f"Upstream {upstream.name} failed while answering ({type(exc).__name__}).",
                               code="upstream_interrupted").response(_BYPASS)
        await self.pool.close(upstream, response, ok=True)
        return Response(body, status_code=response.status_code, media_type="application/json", headers=_BYPASS)

    async def _relay(self, upstream: Upstream, response: httpx.Response):
        ok = False
        try:
            async for chunk in response.aiter_raw():
                yield chunk
            ok = True
        except httpx.HTTPError as exc:
            # Headers are gone already: tell the client in the stream, as OpenAI does.
            error = OpenAIError(502, f"Upstream {upstream.name} stream broke off ({type(exc).__name__}).",
                                code="upstream_interrupted")
            yield encode(error.body())
        finally:
            # Runs on client disconnect too, inside a cancelled scope: shield the cleanup.
            with anyio.CancelScope(shield=True):
                await self.pool.close(upstream, response, ok=ok)


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
