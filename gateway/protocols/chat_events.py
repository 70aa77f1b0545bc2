"""A chat SSE stream (relayed from upstream, or replayed from the cache) -> another API's stream.

The relay yields the chat stream's bytes as the client would have seen them, checked and scrubbed
(gateway/relay/answer_check.py); this parses them again into chunks, feeds them to the API's
translator (ResponsesStream, MessagesStream) and frames its events. The closing events come only
after `[DONE]`: a stream cut short or ended by an error event never reads as finished.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

import orjson

from gateway.protocols.errors import ProtocolError, from_openai_body
from gateway.relay.sse import DONE, SSEParser

Event = dict[str, Any]


class Translator(Protocol):
    def feed(self, chunk: dict[str, Any]) -> list[Event]: ...

    def finish(self) -> list[Event]: ...

    def error(self, error: ProtocolError) -> list[Event]:
        """The API's error event, for an error that arrives once the stream has begun."""
        ...


async def translate(
    chat_sse: AsyncIterator[bytes],
    translator: Translator,
    frame: Callable[[Event], bytes],
    finished: Callable[[list[Event]], Awaitable[None]],
) -> AsyncIterator[bytes]:
    """`finished(closing_events)` runs once the whole answer is known, before its last events are sent
    (so a client that reads the end and then asks for the stored response finds it)."""
    parser = SSEParser()
    async for piece in chat_sse:
        out: list[bytes] = []
        for event in parser.feed(piece):
            if event.data == DONE:
                closing = translator.finish()
                await finished(closing)
                out += [frame(e) for e in closing]
                continue
            chunk = orjson.loads(event.data)
            if "error" in chunk:  # the relay's own error event (upstream broke off, answer refused)
                status = 502 if chunk["error"].get("type") == "server_error" else 400
                out += [frame(e) for e in translator.error(from_openai_body(status, chunk))]
                continue
            out += [frame(e) for e in translator.feed(chunk)]
        if out:
            yield b"".join(out)
