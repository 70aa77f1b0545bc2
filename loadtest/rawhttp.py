"""A minimal keep-alive HTTP/1.1 client on asyncio streams, for load generation.

General-purpose clients (httpx) spend more CPU per request than the proxy we measure; on a
2-core machine that would make the load generator, not the gateway, the bottleneck. This
client does only what a benchmark needs: POST a JSON body, read a Content-Length or chunked
answer, time it.
"""

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class RawResult:
    status: int
    seconds: float
    first_byte_s: float
    size: int


class RawConnection:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def post(self, path: str, body: bytes) -> RawResult:
        if self.writer is None:
            await self.connect()
        head = (f"POST {path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\n\r\n").encode()
        started = time.perf_counter()
        self.writer.write(head + body)
        raw_head = await self.reader.readuntil(b"\r\n\r\n")
        first_byte = time.perf_counter() - started
        status = int(raw_head[9:12])
        headers = raw_head.lower()
        if b"transfer-encoding: chunked" in headers:
            size = await self._read_chunked()
        else:
            marker = headers.index(b"content-length:") + len(b"content-length:")
            length = int(headers[marker:headers.index(b"\r\n", marker)])
            await self.reader.readexactly(length)
            size = length
        return RawResult(status, time.perf_counter() - started, first_byte, size)

    async def _read_chunked(self) -> int:
        total = 0
        while True:
            line = await self.reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0], 16)
            await self.reader.readexactly(size + 2)
            total += size
            if size == 0:
                return total
