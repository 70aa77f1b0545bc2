"""The upstream transport: a relayed body read straight from aiohttp's reader, errors as httpx's."""

import asyncio
import gzip

import httpx
import pytest
from aiohttp import web

from gateway.upstream.transport import BodyPieces, UpstreamTransport

PIECES = [b'data: {"n": 1}\n\n', b'data: {"n": 2}\n\n', b"data: [DONE]\n\n"]


async def _stream(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    for piece in PIECES:
        await response.write(piece)
        await asyncio.sleep(0.01)
    if request.query.get("cut"):
        assert request.transport is not None
        request.transport.close()  # mid-body, as a crashed upstream would
        return response
    await response.write_eof()
    return response


async def _compressed(request: web.Request) -> web.Response:
    return web.Response(body=gzip.compress(b"".join(PIECES)), headers={"content-encoding": "gzip"})


@pytest.fixture
async def upstream():
    app = web.Application()
    app.router.add_get("/stream", _stream)
    app.router.add_get("/compressed", _compressed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with httpx.AsyncClient(transport=UpstreamTransport(), base_url=f"http://127.0.0.1:{port}") as client:
        yield client
    await runner.cleanup()


async def _read_all(pieces: BodyPieces) -> bytes:
    out = b""
    while (piece := await pieces.read()) is not None:
        out += piece
    return out


async def test_a_plain_body_is_read_from_aiohttp_directly_piece_by_piece(upstream):
    async with upstream.stream("GET", "/stream") as response:
        pieces = BodyPieces(response)
        assert pieces.direct  # the installed httpx-aiohttp still hands over its reader: the fast path is taken
        assert await _read_all(pieces) == b"".join(PIECES)


async def test_a_body_cut_off_midway_is_an_httpx_read_error(upstream):
    async with upstream.stream("GET", "/stream", params={"cut": "1"}) as response:
        pieces = BodyPieces(response)
        with pytest.raises(httpx.ReadError):
            await _read_all(pieces)


async def test_a_compressed_body_is_decoded_through_httpx(upstream):
    async with upstream.stream("GET", "/compressed") as response:
        pieces = BodyPieces(response)
        assert not pieces.direct
        assert await _read_all(pieces) == b"".join(PIECES)
