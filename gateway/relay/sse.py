"""Server-sent events: an incremental parser for upstream streams and the encoder we send.

The parser follows the WHATWG rules that matter for OpenAI streams: events end at a blank
line, `data:` lines of one event are joined with newlines, comments (`:`) are skipped,
and CR, LF and CRLF all end a line, even when a chunk boundary splits a CRLF pair.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import orjson

DONE = "[DONE]"


@dataclass(frozen=True)
class Event:
    data: str
    event: str = "message"


class EventTooLarge(ValueError):
    """An event (or one line of it) is longer than the parser keeps."""


# An OpenAI stream chunk is a few hundred bytes; a whole answer replayed as one chunk can be
# large, but nothing legitimate comes near this. Beyond it the stream is not parsed (not cached).
MAX_EVENT_BYTES = 8 << 20


class SSEParser:
    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._buffer = b""
        self._long_line: list[bytes] = []  # pieces of a line still arriving, joined when it ends
        self._long_bytes = 0
        self._data: list[str] = []
        self._data_bytes = 0
        self._event = ""
        self._skip_lf = False
        self._max = max_event_bytes

    def feed(self, chunk: bytes) -> Iterator[Event]:
        """The events `chunk` completes. Raises EventTooLarge once a line or an event grows past
        the limit; the parser holds at most that many bytes."""
        simple = self._simple_events(chunk)
        if simple is not None:
            yield from simple
            return
        if b"\n" not in chunk and b"\r" not in chunk:
            # No line ends here: keep the piece without copying (or re-scanning) what came before.
            self._long_line.append(chunk)
            self._long_bytes += len(chunk)
            self._check(len(self._buffer) + self._long_bytes)
            return
        buffer = b"".join([self._buffer, *self._long_line, chunk])
        self._long_line, self._long_bytes = [], 0
        start = 0
        size = len(buffer)
        while start < size:
            if self._skip_lf:
                self._skip_lf = False
                if buffer[start] == 0x0A:
                    start += 1
                    continue
            cr, lf = buffer.find(b"\r", start), buffer.find(b"\n", start)
            ends = [i for i in (cr, lf) if i >= 0]
            if not ends:
                break
            end = min(ends)
            line = buffer[start:end]
            if buffer[end] == 0x0D:
                if end + 1 < size:
                    start = end + 2 if buffer[end + 1] == 0x0A else end + 1
                else:
                    start = end + 1
                    self._skip_lf = True
            else:
                start = end + 1
            event = self._line(line.decode("utf-8", errors="replace"))
            if event is not None:
                yield event
        self._buffer = buffer[start:]
        self._check(len(self._buffer))

    def _simple_events(self, chunk: bytes) -> list[Event] | None:
        """The events of a piece that holds whole one-line `data: ...` events and nothing else, as an upstream
        streaming one token per write sends them; None for anything else, which the line parser reads.
        Parsed line by line, such a piece was the largest part of the relay's own Python work per chunk."""
        if self._buffer or self._long_line or self._skip_lf or self._data or self._event:
            return None
        if not chunk.endswith(b"\n\n") or b"\r" in chunk:
            return None
        blocks = chunk[:-2].split(b"\n\n")
        for block in blocks:
            if not block.startswith(b"data: ") or b"\n" in block or len(block) - 5 > self._max:
                return None
        return [Event(block[6:].decode("utf-8", errors="replace")) for block in blocks]

    def _check(self, pending: int) -> None:
        if pending + self._data_bytes > self._max:
            self._buffer, self._long_line, self._long_bytes, self._data, self._data_bytes = b"", [], 0, [], 0
            raise EventTooLarge(f"an event is longer than {self._max} bytes")

    def _line(self, line: str) -> Event | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = Event("\n".join(self._data), self._event or "message")
            self._data, self._data_bytes, self._event = [], 0, ""
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
            self._data_bytes += len(value) + 1
            self._check(0)
        elif name == "event":
            self._event = value
        return None


def encode(obj: dict) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


DONE_BYTES = b"data: [DONE]\n\n"
