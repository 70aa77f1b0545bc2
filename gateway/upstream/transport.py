"""The upstream client's transport, and the one read loop a relayed stream's bytes go through.

The transport is aiohttp's connection pool under httpx (httpcore's pool scans every connection per
request). A relayed stream reads its body straight from aiohttp's reader: through httpx's byte
iterators (decoder, chunker, the transport's iterator, aiohttp's chunk iterator) each relayed chunk
passed five generator layers, CPU taken from the backend beside the gateway on every token
(docs/benchmarks.md, e2e). A compressed body, or a response from any other transport, is read
through httpx as before; errors are httpx's either way.
"""

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

_READER = "semgate_aiohttp_reader"


class UpstreamTransport(AiohttpTransport):
    """aiohttp's pool for httpx, leaving each response's aiohttp reader in its extensions."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        aiohttp_response = getattr(response.stream, "_aiohttp_response", None)
        if isinstance(aiohttp_response, aiohttp.ClientResponse):
            response.extensions[_READER] = aiohttp_response.content
        return response


class BodyPieces:
    """An upstream body's pieces as they arrive: `await read()` gives the next, or None at its end."""

    def __init__(self, response: httpx.Response) -> None:
        reader = response.extensions.get(_READER)
        encoded = response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
        self.direct = isinstance(reader, aiohttp.StreamReader) and not encoded
        self._reader: aiohttp.StreamReader | None = reader if self.direct else None
        self._pieces = None if self.direct else response.aiter_bytes()  # decoded: an upstream may compress

    async def read(self) -> bytes | None:
        if self._reader is None:
            assert self._pieces is not None
            return await anext(self._pieces, None)
        try:
            piece = await self._reader.readany()
        except aiohttp.ServerTimeoutError as exc:  # the connection's read timeout (timeouts.read_s)
            raise httpx.ReadTimeout(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        return piece or None
