"""A circuit breaker per upstream: stop sending work to an upstream that keeps failing, probe it back.

closed     every request goes through; `failures` consecutive upstream faults (connection
           refused, timeout, 5xx, a stream broken off) open the circuit.
open       misses fail fast (503 with Retry-After) without touching the upstream, for
           `cooldown_s`; hits are answered from the cache as always.
half-open  after the cool-down one request goes through as a probe: its success closes the
           circuit, its failure opens it for another cool-down. Others fail fast meanwhile.

429 is not a fault: the upstream is alive and asks for less. It never opens the circuit and
is counted apart; its Retry-After (capped at `max_retry_after_s`) is respected by failing
misses fast with 429 until then, so a throttled upstream is not hammered either.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from policies.constraints import AT_LEAST_ONE, POSITIVE, checked

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
STATE_CODES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}  # the /metrics gauge


@dataclass(frozen=True)
class BreakerSettings:
    enabled: bool = True
    failures: int = checked(5, AT_LEAST_ONE, "consecutive upstream faults that open the circuit")
    cooldown_s: float = checked(10.0, POSITIVE, "how long it stays open before one probe is let through")
    max_retry_after_s: float = checked(60.0, POSITIVE, "the longest upstream Retry-After that is honoured")


@dataclass(frozen=True)
class Refusal:
    """Why a request may not go upstream now, and when to try again."""

    status: int  # 503 (open circuit) or 429 (upstream asked to back off)
    retry_after_s: float

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after_s)))


class CircuitBreaker:
    def __init__(
        self, settings: BreakerSettings = BreakerSettings(), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self._clock = clock
        self.state = CLOSED
        self.consecutive_failures = 0
        self.opened = 0  # times the circuit opened
        self.rejected = 0  # requests failed fast
        self.throttled = 0  # 429 answers seen
        self._open_until = 0.0
        self._throttled_until = 0.0
        self._probing = False

    def refusal(self) -> Refusal | None:
        """None when a request may go upstream now (taking the probe slot when half-open)."""
        if not self.settings.enabled:
            return None
        now = self._clock()
        if self.state == OPEN and now >= self._open_until:
            self.state = HALF_OPEN
        if self.state == OPEN or (self.state == HALF_OPEN and self._probing):
            self.rejected += 1
            return Refusal(503, self._open_until - now if self.state == OPEN else 1.0)
        if now < self._throttled_until:
            self.rejected += 1
            return Refusal(429, self._throttled_until - now)
        if self.state == HALF_OPEN:
            self._probing = True
        return None

    def succeeded(self) -> None:
        self.consecutive_failures = 0
        self._probing = False
        self.state = CLOSED

    def failed(self) -> None:
        self.consecutive_failures += 1
        probe_failed = self.state == HALF_OPEN
        self._probing = False
        if self.settings.enabled and (probe_failed or self.consecutive_failures >= self.settings.failures):
            if self.state != OPEN:
                self.opened += 1
            self.state = OPEN
            self._open_until = self._clock() + self.settings.cooldown_s

    def abandoned(self) -> None:
        """The request ended with no verdict on the upstream (the client went away): free the probe slot."""
        self._probing = False

    def throttle(self, retry_after: str | None) -> None:
        """A 429: the upstream is alive. Honour its Retry-After (seconds), within the cap."""
        self.throttled += 1
        self._probing = False
        seconds = _seconds(retry_after)
        if seconds:
            self._throttled_until = max(
                self._throttled_until, self._clock() + min(seconds, self.settings.max_retry_after_s)
            )

    @property
    def retry_in_s(self) -> float:
        """Seconds until an open circuit lets a probe through (0 otherwise)."""
        return max(self._open_until - self._clock(), 0.0) if self.state == OPEN else 0.0


def _seconds(retry_after: str | None) -> float:
    """Retry-After as delta-seconds; the HTTP-date form is rare from LLM APIs and read as absent."""
    try:
        value = float(retry_after) if retry_after is not None else 0.0
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0
