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


def split_held(buffer: bytes, hold: int) -> tuple[bytes, bytes]:
    """(what can be sent now, what is held back) of a rewritten buffer whose matches are at most `hold` + 1
    bytes long and never span a line break: only the bytes after the last line break that could still
    begin a match are held. Shared by every rewriter of a relayed stream (also incontext/answer_label.py)."""
    last_break = max(buffer.rfind(b"\n"), buffer.rfind(b"\r"))
    cut = max(last_break + 1, len(buffer) - hold)
    return buffer[:cut], buffer[cut:]


def scrub(body: bytes, secrets: list[str]) -> bytes:
    """`body` with every secret replaced."""
    scrubber = StreamScrubber(secrets)
    return scrubber.feed(body) + scrubber.flush()


class StreamScrubber:
    def __init__(self, secrets: list[str]) -> None:
        self._secrets = sorted(
            {s.encode() for s in secrets if s and "\n" not in s and "\r" not in s}, key=len, reverse=True
        )
        self._hold = max((len(s) for s in self._secrets), default=1) - 1
        self._pending = b""

    @property
    def active(self) -> bool:
        return bool(self._secrets)

    def feed(self, chunk: bytes) -> bytes:
        """The bytes that are safe to send now (possibly empty)."""
        if not self._secrets:
            return chunk
        # What is sent cannot be the start of a secret that is still arriving.
        ready, self._pending = split_held(self._scrub(self._pending + chunk), self._hold)
        return ready

    def flush(self) -> bytes:
        """What is still held back, at the end of the stream."""
        rest, self._pending = self._pending, b""
        return rest

    def _scrub(self, data: bytes) -> bytes:
        for secret in self._secrets:
            if secret in data:
                data = data.replace(secret, REDACTED)
        return data
