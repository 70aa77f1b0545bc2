"""What the HTTP server refuses itself, before the app sees a request: heads over the limits
while they are still arriving, and requests its parser cannot read; both in the OpenAI error shape.

uvicorn's httptools parser (the fast one the gateway runs on) takes a request head of any
size: a client could send megabytes of headers and the server would buffer them all. The
protocol here counts the head's bytes as they arrive and answers 431 in the OpenAI error
shape once `limits.max_header_bytes` or `limits.max_header_count` is passed. The h11
parser, if chosen instead, gets its own incomplete-event limit from the same setting.
"""

from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from gateway.config import Limits
from gateway.errors import OpenAIError


class _HeadRefused(Exception):
    """Raised inside a parser callback to stop parsing; the parser wraps it and the protocol answers 431."""


def server_options(limits: Limits) -> dict[str, Any]:
    """uvicorn.Config keyword arguments that apply `limits` to the request head."""
    protocol = type("LimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,), {"limits": limits})
    return {"http": protocol, "h11_max_incomplete_event_size": limits.max_header_bytes}


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    limits: Limits = Limits()

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head, self._head_bytes, self._refusal = True, 0, None

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
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

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
        self.transport.write(b"".join([
            STATUS_LINE[error.status], b"content-type: application/json\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n", b"connection: close\r\n\r\n", body]))
        self.transport.close()
