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


class SSEParser:
    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event = ""
        self._skip_lf = False

    def feed(self, chunk: bytes) -> Iterator[Event]:
        buffer = self._buffer + chunk
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

    def _line(self, line: str) -> Event | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = Event("\n".join(self._data), self._event or "message")
            self._data, self._event = [], ""
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None


def encode(obj: dict) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


DONE_BYTES = b"data: [DONE]\n\n"
