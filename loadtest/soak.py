"""The soak driver: many connections sending a mixed hit/miss workload for a long time, every
failure put down to its cause, and the gateway's memory sampled throughout.

It keeps counters and latencies only (no per-request records), so a run of hours costs the
driver no more memory than a run of seconds.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from tqdm import tqdm

from gateway.relay.sse import DONE, SSEParser

# What the echo upstream says when it fails on purpose (loadtest/echo_upstream.py).
INJECTED = "injected upstream fault"
CAUSES = ("gateway", "upstream", "client")
_WORDS = ("amber river quantum violin copper garden lunar engine harbor crystal falcon meadow signal canyon "
          "velvet orbit tundra lantern glacier compass ember prism willow cobalt thunder marble nebula "
          "saffron beacon quarry").split()
_ASKS = ("What is the {a} {b} of the {c} {d}?", "How does the {a} {b} affect the {c} {d}?",
         "Why would a {a} {b} need a {c} {d}?")
_PARAPHRASES = ("Could you tell me what the {a} {b} of the {c} {d} is?", "Explain the {a} {b} of the {c} {d}.")


class MixedQuestions:
    """Fresh questions (misses), exact repeats and paraphrases of earlier ones (hits), in set shares."""

    def __init__(self, repeat: float, paraphrase: float, seed: int, memory: int = 500) -> None:
        self.repeat, self.paraphrase = repeat, paraphrase
        self.rng = random.Random(seed)
        self.asked: list[tuple[dict, str]] = []  # (slots, wording) of recent fresh questions
        self.memory = memory
        self.fresh = 0

    def next(self) -> str:
        roll = self.rng.random()
        if self.asked and roll < self.repeat:
            slots, wording = self.rng.choice(self.asked)
            return wording.format(**slots)
        if self.asked and roll < self.repeat + self.paraphrase:
            slots, _ = self.rng.choice(self.asked)
            return self.rng.choice(_PARAPHRASES).format(**slots)
        self.fresh += 1
        slots = dict(zip("abcd", self.rng.sample(_WORDS, 4)))
        slots["d"] += f" {self.fresh}"  # every fresh question differs, in words and in its number
        wording = self.rng.choice(_ASKS)
        self.asked.append((slots, wording))
        if len(self.asked) > self.memory:
            self.asked.pop(self.rng.randrange(len(self.asked)))
        return wording.format(**slots)


@dataclass
class SoakTally:
    started: float = field(default_factory=time.perf_counter)
    requests: int = 0
    ok: int = 0
    cache: Counter = field(default_factory=Counter)  # x-semgate-cache values of the answers
    errors: dict[str, Counter] = field(default_factory=lambda: {cause: Counter() for cause in CAUSES})
    latency_s: dict[str, list[float]] = field(default_factory=lambda: {"all": [], "hit": [], "miss": []})

    def record(self, seconds: float, cache: str | None, failure: tuple[str, str] | None) -> None:
        self.requests += 1
        if failure is not None:
            cause, detail = failure
            self.errors[cause][detail] += 1
            return
        self.ok += 1
        self.cache[cache or "none"] += 1
        self.latency_s["all"].append(seconds)
        if cache in ("hit", "miss"):
            self.latency_s[cache].append(seconds)


def classify(status: int, body: bytes) -> tuple[str, str]:
    """(cause, detail) of a failed answer: the upstream's doing, the client's, or the gateway's."""
    try:
        error = orjson.loads(body).get("error") or {}
    except (orjson.JSONDecodeError, AttributeError):
        error = {}
    code, message = str(error.get("code") or ""), str(error.get("message") or "")
    detail = f"http_{status}" + (f":{code}" if code else "")
    if code.startswith("upstream_") or message.startswith(INJECTED):
        return "upstream", detail
    if 400 <= status < 500 and status != 429:
        return "client", detail
    return "gateway", detail


def _bad_body(question: str, model: str, rng: random.Random) -> dict:
    """A request the gateway must refuse with a 4xx: the client's error, on purpose."""
    return rng.choice([{"model": model, "messages": []}, {"messages": [{"role": "user", "content": question}]},
                       {"model": model, "messages": [{"role": {"x": 1}, "content": question}]},
                       {"model": model, "messages": [{"role": "user", "content": question}], "n": 0}])


async def _one(client: httpx.AsyncClient, body: dict, bad: bool) -> tuple[str | None, tuple | None]:
    stream = bool(body.get("stream"))
    answered = False  # whether the failure, if any, came after the status line
    try:
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            answered = True
            cache = response.headers.get("x-semgate-cache")
            if bad and response.status_code == 200:
                return cache, ("gateway", "bad_request_accepted")
            if response.status_code != 200:
                return cache, classify(response.status_code, await response.aread())
            if not stream:
                orjson.loads(await response.aread())["choices"][0]["message"]
                return cache, None
            parser = SSEParser()
            async for chunk in response.aiter_bytes():
                for event in parser.feed(chunk):
                    if event.data == DONE:
                        return cache, None
                    if "error" in (payload := orjson.loads(event.data)):
                        return cache, classify(502, orjson.dumps(payload))
            return cache, ("gateway", "incomplete_stream")
    except httpx.TimeoutException:
        return None, ("gateway", "timeout")
    except httpx.HTTPError as error:
        where = ("mid_stream" if stream else "mid_body") if answered else "before_answer"
        return None, ("gateway", f"{type(error).__name__}:{where}")
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
        return None, ("gateway", "bad_response")


async def drive(url: str, questions: MixedQuestions, tally: SoakTally, *, concurrency: int, duration_s: float,
                stream_share: float, bad_share: float, model: str, timeout_s: float, progress: bool = True) -> None:
    """`concurrency` connections, each sending its next request when the last one finished."""
    stop = time.perf_counter() + duration_s
    rng = random.Random(questions.rng.random())
    # Idle connections are dropped well before the server's 5 s keep-alive timeout, so a request is
    # never written into a connection the server is closing (a race that is nobody's fault).
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0)
    with tqdm(total=None, desc="soak", unit="req", file=sys.stderr, disable=not progress, dynamic_ncols=True) as bar:
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout_s) as client:

            async def connection() -> None:
                while time.perf_counter() < stop:
                    question, bad = questions.next(), rng.random() < bad_share
                    body = (_bad_body(question, model, rng) if bad else
                            {"model": model, "messages": [{"role": "user", "content": question}], "max_tokens": 32,
                             "stream": rng.random() < stream_share})
                    started = time.perf_counter()
                    cache, failure = await _one(client, body, bad)
                    tally.record(time.perf_counter() - started, cache, failure)
                    bar.update()

            await asyncio.gather(*(connection() for _ in range(concurrency)))


async def sample_rss(pid: int, samples: list[tuple[float, float]], started: float, every_s: float = 1.0) -> None:
    """Append (seconds since `started`, RSS in MiB) of process `pid` until cancelled."""
    while True:
        rss = rss_mib(pid)
        if rss is not None:
            samples.append((time.perf_counter() - started, rss))
        await asyncio.sleep(every_s)


def rss_mib(pid: int) -> float | None:
    """Resident memory from /proc (Linux); None elsewhere or once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
