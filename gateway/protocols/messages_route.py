"""`POST /v1/messages` (Anthropic Messages) at the edge: its body into the one chat request, answers back out.

Cached and routed like chat by the same proxy; this adapter parses the body into the canonical chat
body and renders every answer in Anthropic's shapes: the message, its SSE events (a hit replayed as
the same events), and every error on this route, the key's and the upstream's included, as
`{"type": "error", "error": {...}}`. The tenant key may come as `x-api-key`; `anthropic-version` is
accepted whatever it says (the adapter speaks one version of the API).
"""

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from starlette.responses import Response

from gateway.edge.errors import OpenAIError
from gateway.edge.limits import Limits
from gateway.edge.wire import CHAT, MESSAGES, ParsedRequest, json_object, parse_request
from gateway.protocols.anthropic_request import MessagesRequest, parse_messages_request
from gateway.protocols.anthropic_response import message_from_chat
from gateway.protocols.anthropic_stream import MessagesStream, sse_event
from gateway.protocols.chat_events import Event, translate
from gateway.protocols.errors import ProtocolError
from gateway.upstream.settings import UpstreamConfig

MESSAGES_PATH = "/v1/messages"


def speaks_anthropic(path: str) -> bool:
    """Whether a request to `path` gets its errors in Anthropic's shape (the Messages routes)."""
    return path == MESSAGES_PATH or path.startswith(MESSAGES_PATH + "/")


def anthropic_error(error: OpenAIError, headers: Mapping[str, str] | None = None) -> Response:
    """Any error on an Anthropic route, in Anthropic's shape with its status (and headers: retry-after)."""
    return Response(
        orjson.dumps(ProtocolError.of(error).anthropic_body()),
        status_code=error.status,
        media_type="application/json",
        headers={**error.headers, **(headers or {})},
    )


class MessagesAdapter:
    """One request's adapter (gateway/edge/wire_adapter.py)."""

    wire = MESSAGES
    accepts_x_api_key = True

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._request: MessagesRequest | None = None

    async def parse(self, raw: bytes, tenant: str) -> ParsedRequest:
        body = json_object(raw)
        extension = body.pop("semgate", None)  # the gateway's own per-request controls, as on chat
        try:
            self._request = parse_messages_request(body)
        except ProtocolError as exc:
            raise exc.as_openai() from None
        chat = self._request.chat if extension is None else {**self._request.chat, "semgate": extension}
        return parse_request(orjson.dumps(chat), CHAT, self.limits)

    def native(self, upstream: UpstreamConfig, body: dict[str, Any]) -> None:
        return None  # every upstream is asked in chat completions

    def error(self, error: OpenAIError, headers: Mapping[str, str]) -> Response:
        return anthropic_error(error, headers)

    async def whole(self, body: bytes, status: int, headers: Mapping[str, str]) -> Response:
        message = message_from_chat(orjson.loads(body), self._parsed)
        return Response(orjson.dumps(message), status_code=status, media_type="application/json", headers=headers)

    def stream(self, chat_sse: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        return translate(chat_sse, MessagesStream(self._parsed), sse_event, _nothing_to_keep)

    @property
    def _parsed(self) -> MessagesRequest:
        if self._request is None:
            raise RuntimeError("an answer is rendered only for a request that parsed")
        return self._request


async def _nothing_to_keep(closing: list[Event]) -> None:
    """The Messages API stores nothing: each request carries its whole conversation."""
