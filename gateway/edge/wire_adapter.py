"""A route's two ends of the request path: its body into the one request, the chat answer back into its API.

The stages between (cache step, IC-Cache, upstream call, relay) speak chat and text completions only.
A route for another API (gateway/protocols/: Responses, Anthropic Messages) hands the proxy one adapter
per request: it parses the route's body into the canonical chat body and renders errors, whole answers
and streams in the route's own shape. The OpenAI routes' adapter renders what the pipeline gives.
"""

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from starlette.responses import Response

from gateway.edge.errors import OpenAIError
from gateway.edge.limits import Limits
from gateway.edge.wire import ParsedRequest, parse_request
from gateway.upstream.settings import UpstreamConfig


class NativeCall(Protocol):
    """An upstream called in the route's own API (gateway/protocols/responses_native.py), its answer read back
    into the pipeline's form as it arrives, so checking, caching and rendering stay as for any answer."""

    path: str
    body: dict[str, Any]

    def whole(self, body: bytes) -> bytes: ...

    def feed(self, piece: bytes) -> bytes: ...

    def finish(self) -> bytes: ...


class WireAdapter(Protocol):
    wire: str  # the route (gateway/edge/wire.py): what traces and stats count it as
    accepts_x_api_key: bool  # the Anthropic SDKs send the tenant key as `x-api-key`

    async def parse(self, raw: bytes, tenant: str) -> ParsedRequest:
        """The request as the pipeline reads it (a chat or text completion body), or an OpenAIError."""
        ...

    def native(self, upstream: UpstreamConfig, body: dict[str, Any]) -> NativeCall | None:
        """How to call `upstream` in the route's own API with the pipeline's `body`; None: as chat."""
        ...

    def error(self, error: OpenAIError, headers: Mapping[str, str]) -> Response: ...

    async def whole(self, body: bytes, status: int, headers: Mapping[str, str]) -> Response:
        """The route's answer for a whole chat answer (`body`, JSON: from upstream or a cache hit)."""
        ...

    def stream(self, chat_sse: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The route's stream for a chat SSE stream (relayed from upstream or replayed from the cache)."""
        ...


class OpenAIAdapter:
    """`/v1/chat/completions` and `/v1/completions`: the pipeline's own format, passed as it is."""

    accepts_x_api_key = False

    def __init__(self, wire: str, limits: Limits) -> None:
        self.wire = wire
        self.limits = limits

    async def parse(self, raw: bytes, tenant: str) -> ParsedRequest:
        return parse_request(raw, self.wire, self.limits)

    def native(self, upstream: UpstreamConfig, body: dict[str, Any]) -> NativeCall | None:
        return None

    def error(self, error: OpenAIError, headers: Mapping[str, str]) -> Response:
        return error.response(dict(headers))

    async def whole(self, body: bytes, status: int, headers: Mapping[str, str]) -> Response:
        return Response(body, status_code=status, media_type="application/json", headers=dict(headers))

    def stream(self, chat_sse: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        return chat_sse
