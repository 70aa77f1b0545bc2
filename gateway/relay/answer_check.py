"""What the gateway lets through of an upstream's answer: checked, scrubbed, bounded in size and time.

An answer, streamed or whole, is cut off once it passes `limits.max_answer_bytes`
(`upstream_answer_too_large`) or once the upstream's `timeouts.total_s` has passed since the
request was sent (`upstream_timeout`): an upstream that streams forever, or trickles a piece
just inside `read_s` forever, ties up neither memory nor a connection. A stream is relayed
event by event, each one parsed and checked (gateway/relay/answer_shape.py) before the client sees
it, so a malformed event ends the stream with an error event (`upstream_bad_answer`) instead
of reaching the client's SDK. A failure after the stream started is told in the stream, as
OpenAI does; nothing of a failed answer is ever stored.
"""

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Protocol

import httpx
import orjson

from gateway.edge.errors import OpenAIError
from gateway.relay.answer_shape import chunk_problem
from gateway.relay.scrub import StreamScrubber
from gateway.relay.sse import DONE, DONE_BYTES, MAX_EVENT_BYTES, EventTooLarge, SSEParser


class AnswerRefused(Exception):
    """The upstream's answer broke a bound or is not an OpenAI answer: the client gets `error`."""

    def __init__(self, error: OpenAIError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class AnswerBounds:
    upstream: str
    max_bytes: int
    total_s: float
    deadline: float  # time.monotonic() by which the whole answer must have arrived
    # The upstream connection's own read timeout (timeouts.read_s): no single read waits longer.
    read_s: float = math.inf

    @classmethod
    def starting_now(cls, upstream: str, max_bytes: int, total_s: float, read_s: float = math.inf) -> "AnswerBounds":
        return cls(upstream, max_bytes, total_s, time.monotonic() + total_s, read_s)

    def remaining_s(self) -> float:
        return self.deadline - time.monotonic()

    def too_late(self) -> AnswerRefused:
        return AnswerRefused(
            OpenAIError(
                504,
                f"Upstream {self.upstream} did not finish its answer within {self.total_s:g} s (timeouts.total_s).",
                code="upstream_timeout",
            )
        )

    def too_large(self) -> AnswerRefused:
        return AnswerRefused(
            OpenAIError(
                502,
                f"Upstream {self.upstream}'s answer is larger than {self.max_bytes} bytes (limits.max_answer_bytes).",
                code="upstream_answer_too_large",
            )
        )

    def malformed(self, problem: str) -> AnswerRefused:
        return AnswerRefused(
            OpenAIError(
                502,
                f"Upstream {self.upstream} sent an answer that is not an OpenAI answer: {problem}.",
                code="upstream_bad_answer",
            )
        )


async def read_whole(response: httpx.Response, bounds: AnswerBounds) -> bytes:
    """The whole body, within the bounds. Raises AnswerRefused, or httpx.HTTPError for a broken read."""
    chunks, size = [], 0
    try:
        async with asyncio.timeout(bounds.remaining_s()):
            async for chunk in response.aiter_bytes():  # decoded: the cap bounds what is held, bombs included
                size += len(chunk)
                if size > bounds.max_bytes:
                    raise bounds.too_large()
                chunks.append(chunk)
    except TimeoutError:
        raise bounds.too_late() from None
    return b"".join(chunks)


_READ_TIMEOUT_SLACK_S = 1.0  # the read timeout fires on the event loop's clock, a little late under load


class Pieces(Protocol):
    """An upstream body read piece by piece (gateway/upstream/transport.py's BodyPieces)."""

    async def read(self) -> bytes | None: ...


async def next_piece(pieces: Pieces, bounds: AnswerBounds) -> bytes | None:
    """The stream's next raw piece (None at its end), unless the answer's deadline passes first.

    Far from the deadline the connection's read timeout ends any read before it, so no timer is set:
    a timer per piece is work on every relayed chunk, beside a backend that wants the same cores."""
    remaining = bounds.remaining_s()
    if remaining > bounds.read_s + _READ_TIMEOUT_SLACK_S:
        return await pieces.read()
    try:
        async with asyncio.timeout(remaining):
            return await pieces.read()
    except TimeoutError:
        raise bounds.too_late() from None


class StreamChecker:
    """Turns the raw pieces of an upstream stream into the checked, scrubbed events the client gets."""

    def __init__(self, kind: str, secrets: list[str], bounds: AnswerBounds) -> None:
        self.kind, self.bounds = kind, bounds
        self._scrubber = StreamScrubber(secrets)
        self._parser = SSEParser(min(bounds.max_bytes, MAX_EVENT_BYTES))
        self._received = 0
        self.events = 0

    def feed(self, piece: bytes) -> list[tuple[bytes, dict | str]]:
        """(bytes to send, parsed event) for each event `piece` completes: a chunk, an error event, or DONE."""
        self._received += len(piece)
        if self._received > self.bounds.max_bytes:
            raise self.bounds.too_large()
        return self._events(self._scrubber.feed(piece))

    def finish(self) -> list[tuple[bytes, dict | str]]:
        """The events still held back at the end of the stream; refuses a stream that held none."""
        events = self._events(self._scrubber.flush() + b"\n\n")
        if self.events == 0:
            raise self.bounds.malformed("the stream held no events")
        return events

    def _events(self, data: bytes) -> list[tuple[bytes, dict | str]]:
        out: list[tuple[bytes, dict | str]] = []
        try:
            for event in self._parser.feed(data):
                self.events += 1
                if event.data == DONE:
                    out.append((DONE_BYTES, DONE))
                    continue
                chunk = orjson.loads(event.data)
                # An error event is the upstream telling the client why it stopped: passed on (scrubbed).
                problem = None if isinstance(chunk, dict) and "error" in chunk else chunk_problem(chunk, self.kind)
                if problem is not None:
                    raise self.bounds.malformed(problem)
                out.append((b"data: " + event.data.encode() + b"\n\n", chunk))
        except orjson.JSONDecodeError:
            raise self.bounds.malformed("a stream event is not JSON") from None
        except EventTooLarge:
            raise self.bounds.too_large() from None
        return out
