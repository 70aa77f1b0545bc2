"""What the gateway measures of an upstream's load: saturation and queueing, never answer length.

Once a second the cache service turns each upstream's recent requests into a LoadSample
(policies/load.py): requests in flight against its capacity, the median time to the first token
of the streams it relayed in the last LOAD_WINDOW_S, and the share of 429/503 answers. The time to
the first token grows when requests wait for a slot; it does not grow with the length of the
answer, which a whole request's latency does (a few long answers on an idle CPU backend once read
as overload). Non-streamed answers give no first-token time (their headers come with the whole
answer): in-flight requests against capacity is their signal.

Where a server reports its own queue (Prometheus /metrics at its root: the bundled backend, vLLM,
SGLang), the requests waiting there count too: other clients of a shared backend queue there
without passing through this gateway. A server that answers /metrics with anything else (a hosted
API's 404) is not asked again.
"""

import asyncio
import statistics
import time

import httpx
import orjson

from gateway.relay.sse import DONE, SSEParser
from gateway.upstream.pool import Upstream
from policies.load import LoadSample

LOAD_WINDOW_S = 10.0
# Gauges of requests waiting for a slot: the bundled backend's, vLLM's, SGLang's.
QUEUE_GAUGES = ("semgate_backend_queue_depth", "vllm:num_requests_waiting", "sglang:num_queue_reqs")
METRICS_TIMEOUT_S = 0.5
# The events before a stream's first token are a few hundred bytes; the watch keeps no more than this.
FIRST_EVENTS_MAX_BYTES = 64 << 10


def load_sample(upstream: Upstream, now: float, queued: int | None = None) -> LoadSample:
    """`now`: time.monotonic() of the sample (the clock the upstream's stats are kept in); `queued`:
    what its servers report waiting (QueueProbe), None where none reports it."""
    stats = upstream.stats
    recent = [r for r in stats.recent if now - r[0] <= LOAD_WINDOW_S]
    first_tokens = [seconds for at, seconds in stats.first_tokens if now - at <= LOAD_WINDOW_S]
    throttled = sum(1 for *_, status in recent if status in (429, 503))
    return LoadSample(
        in_flight=stats.in_flight,
        capacity=upstream.capacity,
        first_token_s=statistics.median(first_tokens) if first_tokens else None,
        throttle_rate=throttled / len(recent) if recent else 0.0,
        queued=queued,
    )


class QueueProbe:
    """Asks the servers of an upstream how many requests wait in their own queue."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client
        self._silent: set[str] = set()  # servers whose /metrics reports no queue: never asked again

    async def queued(self, upstream: Upstream) -> int | None:
        counts = await asyncio.gather(*(self._ask(b.url) for b in upstream.backends.backends))
        reported = [c for c in counts if c is not None]
        return sum(reported) if reported else None

    async def _ask(self, base_url: str) -> int | None:
        if base_url in self._silent:
            return None
        try:  # no credentials: metrics are not the API, and an API key has no business there
            response = await self._client.get(
                str(httpx.URL(base_url).copy_with(path="/metrics", query=None)), timeout=METRICS_TIMEOUT_S
            )
        except httpx.HTTPError:
            return None  # down or slow this time: asked again at the next sample
        waiting = queue_length(response.text) if response.status_code == 200 else None
        if waiting is None:
            self._silent.add(base_url)
        return waiting


def queue_length(metrics: str) -> int | None:
    """The sum of the queue gauges in a Prometheus text exposition; None when it has none."""
    total, found = 0.0, False
    for line in metrics.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name not in QUEUE_GAUGES:
            continue
        rest = line[line.rindex("}") + 1 :] if "{" in line else line[len(name) :]
        try:  # the value, then an optional timestamp
            total += float(rest.split()[0])
            found = True
        except (IndexError, ValueError):
            continue
    return round(total) if found else None


class FirstTokenWatch:
    """Fed the bytes of a relayed stream; records the time to its first token (content, text or a
    tool call: a role-only opening chunk is not a token) once, then stops reading."""

    def __init__(self, upstream: Upstream, response: httpx.Response) -> None:
        self._upstream = upstream
        self._started = response.extensions.get("semgate_started")
        self._parser = SSEParser(FIRST_EVENTS_MAX_BYTES) if self._started is not None else None

    def feed(self, chunk: bytes) -> None:
        if self._parser is None or self._started is None:  # no start time: no parser either
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
