"""The hostile share of the soak: clients and upstream answers that try to stall, exhaust or poison
the gateway, each with the outcome a correct gateway gives it.

    regex_bait   a message of "a" + "." * N + "a" at the size limit   answered (200, or the echo upstream's injected fault)
    deep_json    a body nested 300 levels deep                          400 json_too_deep
    slow_client  half a request head, then nothing                      408 and the connection closed
    flood        a request to an upstream that answers without end      upstream_answer_too_large (or _timeout)
    trickle      ... to one that answers a piece at a time, for ever   upstream_timeout (the total deadline)
    malformed    ... to one whose 200s are not OpenAI answers           upstream_bad_answer, or a scrubbed answer
    disconnect   a request whose client leaves before the answer        the upstream is told (checked at the end)

Anything else (a 500, a body that is not the error shape, the upstream key in an answer, a
connection held open past its deadline, a request the client gave up on) is the gateway's fault.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import orjson

from loadtest.soak import classify

KINDS = ("regex_bait", "deep_json", "slow_client", "flood", "trickle", "malformed", "disconnect")
# A flood ends at the answer cap, or at the deadline where the gateway relays slower than the cap fills.
EXPECTED_CODES = {"flood": {"upstream_answer_too_large", "upstream_timeout"}, "trickle": {"upstream_timeout"},
                  "malformed": {"upstream_bad_answer"}, "deep_json": {"json_too_deep"}}


@dataclass
class HostileSettings:
    bait_chars: int  # the regex bait's length (the message limit, by default)
    slow_client_wait_s: float  # how long a slow client waits to be closed before that counts as a fault
    timeout_s: float  # a hostile request the gateway has not ended by then is its fault
    upstream_key: str  # the hostile upstream's key: it must never reach a client


@dataclass
class HostileTally:
    sent: Counter = field(default_factory=Counter)
    expected: Counter = field(default_factory=Counter)
    faults: Counter = field(default_factory=Counter)  # "kind:detail" the gateway's fault

    def record(self, kind: str, fault: str | None) -> None:
        self.sent[kind] += 1
        if fault is None:
            self.expected[kind] += 1
        else:
            self.faults[f"{kind}:{fault}"] += 1

    def summary(self) -> dict:
        return {"sent": dict(self.sent), "as_expected": dict(self.expected), "gateway_faults": dict(self.faults)}


async def drive_hostile(url: str, tally: HostileTally, settings: HostileSettings, *, concurrency: int,
                        duration_s: float, seed: int) -> None:
    """`concurrency` hostile clients, each sending its next hostile request when the last one ended."""
    stop = time.perf_counter() + duration_s
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=settings.timeout_s) as client:

        async def hostile_client() -> None:
            while time.perf_counter() < stop:
                kind = rng.choice(KINDS)
                try:
                    fault = await _ATTACKS[kind](client, url, settings, rng)
                except httpx.TimeoutException:
                    fault = "not_ended_in_time"
                except (httpx.HTTPError, OSError) as error:
                    fault = type(error).__name__
                tally.record(kind, fault)

        await asyncio.gather(*(hostile_client() for _ in range(concurrency)))


def _chat(model: str, content: str, stream: bool = False) -> dict:
    return {"model": model, "messages": [{"role": "user", "content": content}], "stream": stream}


def _error_fault(status: int, body: bytes, expected: set[str]) -> str | None:
    """None when `body` is the OpenAI error shape with an expected code."""
    try:
        error = orjson.loads(body)["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return f"http_{status}:not_the_error_shape"
    return None if error.get("code") in expected else f"http_{status}:{error.get('code')}"


async def _upstream_answer(client: httpx.AsyncClient, model: str, rng: random.Random, settings: HostileSettings,
                           expected: set[str]) -> str | None:
    """A request to a hostile upstream model: streamed or not, it must end with an expected error (or,
    for a malformed upstream's well-formed turn, an answer without the key in it)."""
    stream = rng.random() < 0.5
    response = await client.post("/v1/chat/completions", json=_chat(model, f"hostile {rng.random()}", stream))
    body = response.content
    if settings.upstream_key.encode() in body:
        return "secret_leaked"
    if response.status_code == 200 and stream:
        last = body.rstrip().rsplit(b"\n\n", 1)[-1].removeprefix(b"data: ")
        if last == b"[DONE]":
            return None if model == "malformed-1" else "stream_not_ended_by_gateway"
        return _error_fault(200, last, expected)
    if response.status_code == 200:
        return None if model == "malformed-1" and b"choices" in body else "bad_answer_relayed"
    return _error_fault(response.status_code, body, expected)


async def _regex_bait(client, url, settings, rng) -> str | None:
    bait = "a" + "." * (settings.bait_chars - 2) + "a"
    response = await client.post("/v1/chat/completions", json=_chat("echo-1", bait))
    if response.status_code == 200:
        return None
    cause, detail = classify(response.status_code, response.content)  # the echo upstream's injected faults too
    return None if cause == "upstream" else detail


async def _deep_json(client, url, settings, rng) -> str | None:
    depth = 300
    body = b'{"model": "echo-1", "messages": [{"role": "user", "content": "x"}], "m": ' + b"[" * depth + b"]" * depth
    response = await client.post("/v1/chat/completions", content=body + b"}",
                                 headers={"content-type": "application/json"})
    return _error_fault(response.status_code, response.content, EXPECTED_CODES["deep_json"])


async def _slow_client(client, url, settings, rng) -> str | None:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\ncontent-type: appl")
        await writer.drain()
        try:
            answer = await asyncio.wait_for(reader.read(), settings.slow_client_wait_s)
        except asyncio.TimeoutError:
            return "slow_client_not_closed"
        return None if answer.startswith(b"HTTP/1.1 408") else "slow_client_not_answered_408"
    finally:
        writer.close()


async def _flood(client, url, settings, rng) -> str | None:
    return await _upstream_answer(client, "flood-1", rng, settings, EXPECTED_CODES["flood"])


async def _trickle(client, url, settings, rng) -> str | None:
    return await _upstream_answer(client, "trickle-1", rng, settings, EXPECTED_CODES["trickle"])


async def _malformed(client, url, settings, rng) -> str | None:
    return await _upstream_answer(client, "malformed-1", rng, settings, EXPECTED_CODES["malformed"])


async def _disconnect(client, url, settings, rng) -> str | None:
    stream = rng.random() < 0.5
    try:
        await client.post("/v1/chat/completions", json=_chat("slow-1", "leave early", stream),
                          timeout=httpx.Timeout(settings.timeout_s, read=0.2))
    except httpx.ReadTimeout:
        return None  # we left; whether the upstream was told is read from its stats at the end
    return "answered_before_leaving"


_ATTACKS = {"regex_bait": _regex_bait, "deep_json": _deep_json, "slow_client": _slow_client, "flood": _flood,
            "trickle": _trickle, "malformed": _malformed, "disconnect": _disconnect}
