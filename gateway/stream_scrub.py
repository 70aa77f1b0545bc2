"""Remove known secrets from an upstream's answer before the client (or the cache) sees them.

Every path an upstream body takes goes through here: a non-streamed answer whole (`scrub`),
a stream as it is relayed (StreamScrubber); upstream errors are redacted when they are turned
into our error (upstream._passthrough_error). An upstream that quotes the API key we sent it,
in an answer, an SSE event or an error, never hands it to the client or the cache. The scrubber
replaces every known secret in the bytes it passes on. A secret may be split across two
chunks, so the bytes that could begin one are held back until the next chunk (or the end);
secrets never contain a line break, so nothing before the chunk's last line break is held,
and an SSE stream, whose chunks end with a blank line, is passed on without delay.
"""

REDACTED = b"<redacted>"


def scrub(body: bytes, secrets: list[str]) -> bytes:
    """`body` with every secret replaced."""
    scrubber = StreamScrubber(secrets)
    return scrubber.feed(body) + scrubber.flush()


class StreamScrubber:
    def __init__(self, secrets: list[str]) -> None:
        self._secrets = sorted({s.encode() for s in secrets if s and "\n" not in s and "\r" not in s},
                               key=len, reverse=True)
        self._hold = max((len(s) for s in self._secrets), default=1) - 1
        self._pending = b""

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def feed(self, chunk: bytes) -> bytes:
        """The bytes that are safe to send now (possibly empty)."""
        if not self._secrets:
            return chunk
        buffer = self._scrub(self._pending + chunk)
        last_break = max(buffer.rfind(b"\n"), buffer.rfind(b"\r"))
        cut = max(last_break + 1, len(buffer) - self._hold)
        # Anything before `cut` cannot be the start of a secret that is still arriving.
        self._pending = buffer[cut:]
        return buffer[:cut]

    def flush(self) -> bytes:
        """What is still held back, at the end of the stream."""
        rest, self._pending = self._pending, b""
        return rest

    def _scrub(self, data: bytes) -> bytes:
        for secret in self._secrets:
            if secret in data:
                data = data.replace(secret, REDACTED)
        return data
