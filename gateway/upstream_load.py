"""What the gateway measures of an upstream's load: saturation and queueing, never answer length.

Once a second the cache service turns each upstream's recent requests into a LoadSample
(policies/load.py): requests in flight against its capacity, the median time to the first token
of the streams it relayed in the last LOAD_WINDOW_S, and the share of 429/503 answers. The time to
the first token grows when requests wait for a slot; it does not grow with the length of the
answer, which a whole request's latency does (a few long answers on an idle CPU backend once read
as overload). Non-streamed answers give no first-token time (their headers come with the whole
answer): in-flight requests against capacity is their signal.
"""

import statistics
import time

import httpx
import orjson

from gateway.sse import DONE, SSEParser
from gateway.upstream import Upstream
from policies.load import LoadSample

LOAD_WINDOW_S = 10.0


def load_sample(upstream: Upstream, now: float) -> LoadSample:
    """`now`: time.monotonic() of the sample (the clock the upstream's stats are kept in)."""
    stats = upstream.stats
    recent = [r for r in stats.recent if now - r[0] <= LOAD_WINDOW_S]
    first_tokens = [seconds for at, seconds in stats.first_tokens if now - at <= LOAD_WINDOW_S]
    throttled = sum(1 for *_, status in recent if status in (429, 503))
    return LoadSample(in_flight=stats.in_flight, capacity=upstream.capacity,
                      first_token_s=statistics.median(first_tokens) if first_tokens else None,
                      throttle_rate=throttled / len(recent) if recent else 0.0)


class FirstTokenWatch:
    """Fed the bytes of a relayed stream; records the time to its first token (content, text or a
    tool call: a role-only opening chunk is not a token) once, then stops reading."""

    def __init__(self, upstream: Upstream, response: httpx.Response) -> None:
        self._upstream = upstream
        self._started = response.extensions.get("semgate_started")
        self._parser: SSEParser | None = SSEParser() if self._started is not None else None

    def feed(self, chunk: bytes) -> None:
        if self._parser is None:
            return
        try:
            for event in self._parser.feed(chunk):
                if event.data != DONE and _carries_token(orjson.loads(event.data)):
                    self._upstream.stats.first_tokens.append((time.monotonic(), time.monotonic() - self._started))
                    self._parser = None
                    return
        except ValueError:  # not JSON, or an event past the parser's limit: this stream gives no sample
            self._parser = None


def _carries_token(chunk: object) -> bool:
    choices = chunk.get("choices") if isinstance(chunk, dict) else None
    for choice in choices if isinstance(choices, list) else ():
        if not isinstance(choice, dict):
            continue
        delta = choice.get("delta")
        if isinstance(delta, dict) and (delta.get("content") or delta.get("tool_calls")):
            return True
        if choice.get("text"):
            return True
    return False
