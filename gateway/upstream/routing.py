"""Several servers behind one upstream: which one gets a request, and which ones are alive.

Prefix affinity: requests whose prompts open with the same `affinity_prefix_chars`
characters (a shared system prompt, the same in-context examples, the earlier turns of one
conversation) go to the same server, so its prefix KV cache answers the prefill. The server
is picked by rendezvous hashing over the healthy ones: every gateway replica picks the same
server without talking to the others, and losing a server moves only its own prefixes.

Load: a request without such a prefix goes to the server with the fewest requests in flight
relative to its capacity, the faster one (recent time to response headers) among equals; a
prefix whose server is saturated while another has room spills to the least loaded one (a
queue costs more than a recomputed prefix).

Health: each server is asked GET base_url + health_path every few seconds (any
OpenAI-compatible server answers /models); a failed probe or a refused connection takes it
out of the choice until a probe succeeds again. The failover order lists the other healthy
servers, least loaded first, then the unhealthy ones as a last resort.
"""

import asyncio
import hashlib
import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)


@dataclass
class Backend:
    url: str  # base URL, e.g. http://10.0.0.5:8000/v1
    capacity: int
    healthy: bool = True
    in_flight: int = 0
    requests: int = 0
    failures: int = 0
    last_error: str | None = None
    checked_at: float | None = None
    latency_s: float | None = None  # moving average of the time to response headers

    @property
    def load(self) -> float:
        return self.in_flight / self.capacity

    def observe(self, seconds: float) -> None:
        self.latency_s = seconds if self.latency_s is None else 0.8 * self.latency_s + 0.2 * seconds

    def mark_down(self, reason: str) -> None:
        if self.healthy:
            log.warning("backend %s is down (%s)", self.url, reason)
        self.healthy, self.last_error = False, reason


class BackendSet:
    def __init__(self, urls: tuple[str, ...], capacity: int, prefix_chars: int) -> None:
        self.backends = [Backend(url, capacity) for url in urls]
        self.prefix_chars = prefix_chars
        self._turn = itertools.count()

    def __len__(self) -> int:
        return len(self.backends)

    def order(self, body: dict[str, Any] | None = None) -> list[Backend]:
        """Backends to try for this request: the chosen one first, then the failover order."""
        healthy = [b for b in self.backends if b.healthy]
        down = [b for b in self.backends if not b.healthy]
        if not healthy:  # every probe failed: try them all anyway, a probe can be stale
            healthy, down = down, []
        key = affinity_key(body, self.prefix_chars) if body is not None and len(healthy) > 1 else None
        by_load = self._by_load(healthy)
        chosen = by_load[0]
        if key is not None:
            preferred = max(healthy, key=lambda b: _rendezvous(key, b.url))
            saturated = preferred.in_flight >= preferred.capacity and chosen.in_flight < chosen.capacity
            chosen = chosen if saturated else preferred
        return [chosen, *(b for b in by_load if b is not chosen), *sorted(down, key=lambda b: b.load)]

    def _by_load(self, backends: list[Backend]) -> list[Backend]:
        rank = lambda b: (b.load, b.latency_s or 0.0)  # noqa: E731
        ranked = sorted(backends, key=rank)
        # Exact ties (no latency measured yet) take turns, so requests spread instead of piling onto one.
        ties = sum(1 for b in ranked if rank(b) == rank(ranked[0]))
        turn = next(self._turn) % ties
        return [ranked[turn], *ranked[:turn], *ranked[turn + 1 :]]

    async def check(self, client: httpx.AsyncClient, path: str, headers: dict[str, str], timeout_s: float) -> None:
        await asyncio.gather(*(self._probe(b, client, path, headers, timeout_s) for b in self.backends))

    async def _probe(
        self, backend: Backend, client: httpx.AsyncClient, path: str, headers: dict[str, str], timeout_s: float
    ) -> None:
        try:
            response = await client.get(f"{backend.url}{path}", headers=headers, timeout=timeout_s)
            ok, reason = response.status_code == 200, f"health check answered HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok, reason = False, f"health check failed: {type(exc).__name__}"
        backend.checked_at = time.time()
        if ok and not backend.healthy:
            log.warning("backend %s is healthy again", backend.url)
            backend.healthy, backend.last_error = True, None
        elif not ok:
            backend.mark_down(reason)


def affinity_key(body: dict[str, Any], prefix_chars: int) -> str | None:
    """A digest of the prompt's first `prefix_chars` characters; None for a shorter prompt (too
    little shared prefix to be worth pinning: load alone decides) or when affinity is off (0)."""
    if prefix_chars <= 0:
        return None
    prefix = prompt_prefix(body, prefix_chars)
    if len(prefix) < prefix_chars:
        return None
    return hashlib.blake2b(prefix.encode(), digest_size=16).hexdigest()


def prompt_prefix(body: dict[str, Any], limit: int) -> str:
    """The opening of the prompt as the backend renders it: messages in order, role then content."""
    messages = body.get("messages")
    if isinstance(messages, list):
        parts, size = [], 0
        for message in messages:
            if not isinstance(message, dict):
                continue
            part = f"<{message.get('role')}>{_content_text(message.get('content'))}\n"
            parts.append(part)
            size += len(part)
            if size >= limit:
                break
        return "".join(parts)[:limit]
    prompt = body.get("prompt")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], str):
        prompt = prompt[0]
    return prompt[:limit] if isinstance(prompt, str) else ""


def _content_text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""


def _rendezvous(key: str, url: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{key}|{url}".encode(), digest_size=8).digest(), "big")
