"""`POST /v1/responses` at the edge: the Responses body into the one chat request, its answers back out.

The proxy runs the request as it runs chat (cache step, IC-Cache, upstream call, relay); this adapter
parses the body (resolving `previous_response_id` through the tenant's stored responses, so the chat
body holds the whole conversation and context-aware matching works as for chat), and renders the chat
answer, whole or streamed, from upstream or from the cache, as a Responses object or its events. A
finished response is stored for `GET`, `DELETE` and later turns when the request says `store`.
"""

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response

from gateway.edge.errors import OpenAIError, invalid
from gateway.edge.limits import Limits
from gateway.edge.wire import CHAT, RESPONSES, ParsedRequest, json_object, parse_request
from gateway.protocols.chat_events import Event, translate
from gateway.protocols.errors import ProtocolError
from gateway.protocols.response_store import ResponseStore, record_for, resolve_previous
from gateway.protocols.responses_native import NativeResponsesCall
from gateway.protocols.responses_output import response_from_chat
from gateway.protocols.responses_request import ResponsesRequest, parse_responses_request
from gateway.protocols.responses_stream import ResponsesStream, sse_event
from gateway.upstream.settings import NATIVE, UpstreamConfig


@dataclass(frozen=True)
class ParsedResponses:
    request: ResponsesRequest  # what the Responses answer echoes and the stored record keeps
    earlier: list[dict[str, Any]] | None  # the conversation previous_response_id resolved to
    chat: ParsedRequest  # what the pipeline runs


async def canonical_chat(raw: bytes, tenant: str, store: ResponseStore, limits: Limits) -> ParsedResponses:
    """The Responses request and the chat request it becomes, checked as chat is (limits included)."""
    body = json_object(raw)
    extension = body.pop("semgate", None)  # the gateway's own per-request controls, as on chat
    previous = body.get("previous_response_id")
    if previous is not None and not isinstance(previous, str):
        raise invalid("'previous_response_id' must be a string.", param="previous_response_id")
    try:
        earlier = await resolve_previous(store, tenant, previous) if previous is not None else None
        request = parse_responses_request(body, earlier)
    except ProtocolError as exc:
        raise exc.as_openai() from None
    chat = request.chat if extension is None else {**request.chat, "semgate": extension}
    return ParsedResponses(request, earlier, parse_request(orjson.dumps(chat), CHAT, limits))


class ResponsesAdapter:
    """One request's adapter (gateway/edge/wire_adapter.py): it keeps what the parse learned for the answer."""

    wire = RESPONSES
    accepts_x_api_key = False

    def __init__(self, store: ResponseStore, limits: Limits) -> None:
        self.store = store
        self.limits = limits
        self._tenant = ""
        self._parsed: ParsedResponses | None = None

    async def parse(self, raw: bytes, tenant: str) -> ParsedRequest:
        self._tenant = tenant
        self._parsed = await canonical_chat(raw, tenant, self.store, self.limits)
        return self._parsed.chat

    def native(self, upstream: UpstreamConfig, body: dict[str, Any]) -> NativeResponsesCall | None:
        """An upstream marked `responses: native` is asked in the Responses API itself."""
        return NativeResponsesCall(body) if upstream.responses == NATIVE else None

    def error(self, error: OpenAIError, headers: Mapping[str, str]) -> Response:
        return error.response(dict(headers))

    async def whole(self, body: bytes, status: int, headers: Mapping[str, str]) -> Response:
        response = response_from_chat(orjson.loads(body), self._request.request)
        await self._keep(response)
        return Response(orjson.dumps(response), status_code=status, media_type="application/json", headers=headers)

    def stream(self, chat_sse: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        return translate(chat_sse, ResponsesStream(self._request.request), sse_event, self._finished)

    async def _finished(self, closing: list[Event]) -> None:
        await self._keep(closing[-1]["response"])  # response.completed or response.incomplete

    async def _keep(self, response: dict[str, Any]) -> None:
        parsed = self._request
        if parsed.request.store:
            await self.store.put(self._tenant, record_for(parsed.request, parsed.earlier, response))

    @property
    def _request(self) -> ParsedResponses:
        if self._parsed is None:
            raise RuntimeError("an answer is rendered only for a request that parsed")
        return self._parsed
