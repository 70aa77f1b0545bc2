"""What the HTTP server refuses itself, before the app sees a request: heads over the limits
while they are still arriving, requests its parser cannot read, and clients too slow to send
theirs; all in the OpenAI error shape.

uvicorn's httptools parser (the fast one the gateway runs on) takes a request head of any
size: a client could send megabytes of headers and the server would buffer them all. The
protocol here counts the head's bytes as they arrive and answers 431 in the OpenAI error
shape once `limits.max_header_bytes` or `limits.max_header_count` is passed. The h11
parser, if chosen instead, gets its own incomplete-event limit from the same setting.

uvicorn closes a connection idle between requests (`timeout_keep_alive`) but waits for a
request head or body that is still arriving for ever: a thousand clients sending half a head
each would hold a thousand connections. The protocol gives a client `limits.header_timeout_s`
for its head (from connecting, or from its first byte on a kept-alive connection) and then
`limits.body_timeout_s` for its body; past either it answers 408 and closes the connection.
"""

import asyncio
from asyncio import TimerHandle
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from gateway.edge.errors import OpenAIError
from gateway.edge.limits import Limits


class _HeadRefused(Exception):
    """Raised inside a parser callback to stop parsing; the parser wraps it and the protocol answers 431."""


def server_options(limits: Limits) -> dict[str, Any]:
    """uvicorn.Config keyword arguments that apply `limits` to the request head."""
    protocol = type("LimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,), {"limits": limits})
    return {"http": protocol, "h11_max_incomplete_event_size": limits.max_header_bytes}


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    limits: Limits = Limits()

    # asyncio types the transport as BaseTransport; uvicorn's protocol (and so this one) needs a Transport.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head, self._head_bytes = True, 0
        self._refusal: str | None = None
        self._deadline: TimerHandle | None = None
        self._expect("request headers", self.limits.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._expect(None, 0)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:  # a kept-alive connection's next request: its head starts arriving now
            self._expect("request headers", self.limits.header_timeout_s)

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.limits.max_header_bytes and self._refusal is None:
            self._refuse(self._too_large())

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_header_bytes:
            self._refusal = self._too_large()
            raise _HeadRefused

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        if len(self.headers) > self.limits.max_header_count:
            self._refusal = f"Request has more than {self.limits.max_header_count} headers."
            raise _HeadRefused

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:
            self._refusal = self._too_large()
            raise _HeadRefused
        self._in_head, self._head_bytes = False, 0
        self._expect("request body", self.limits.body_timeout_s)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._expect(None, 0)
        super().on_message_complete()
        self._in_head = True

    def _expect(self, what: str | None, within_s: float) -> None:
        """Arm the deadline for `what` is still to arrive (None: nothing is awaited; disarm it)."""
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(within_s, self._too_slow, what, within_s) if what else None

    def _too_slow(self, what: str, within_s: float) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started and not self.cycle.response_complete:
            self.transport.close()  # the app is answering already; nothing more can be said on this connection
            return
        self._answer(OpenAIError(408, f"The {what} did not arrive within {within_s:g} s.", code="request_timeout"))

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this for any parser error, ours included: answer ours as what it is,
        # and any other malformed request in the API's error shape rather than as plain text.
        if self._refusal is not None:
            self._refuse(self._refusal)
        else:
            self._answer(OpenAIError(400, "Malformed HTTP request.", code="invalid_http_request"))

    def _too_large(self) -> str:
        return f"Request headers are larger than the limit of {self.limits.max_header_bytes} bytes."

    def _refuse(self, message: str) -> None:
        self._refusal = message
        self._answer(OpenAIError(431, message, code="request_headers_too_large"))

    def _answer(self, error: OpenAIError) -> None:
        """Answer and close: the connection's byte stream can no longer be trusted."""
        body = orjson.dumps(error.body())
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[error.status],
                    b"content-type: application/json\r\n",
                    b"content-length: " + str(len(body)).encode() + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()
