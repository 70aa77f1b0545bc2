"""Counters the engine keeps for /metrics and benchmarks.

Written by the engine thread only; other threads read them (plain ints and a deque,
safe to read under the GIL).
"""

import time
from collections import deque
from dataclasses import dataclass, field

# Tokens per second is averaged over this many recent seconds.
THROUGHPUT_WINDOW_S = 10.0


@dataclass
class EngineStats:
    prompt_tokens: int = 0  # prompt tokens of accepted requests
    generated_tokens: int = 0
    finished_requests: int = 0
    aborted_requests: int = 0
    # Requests that set no max_tokens and ran to the engine's default bound (or the context's end).
    default_bound_cuts: int = 0
    # Requests cut at their bound (any) while repeating a loop (engine/repetition.py).
    looping_cuts: int = 0
    steps: int = 0
    prefill_steps: int = 0
    # Tokens run through the model other than decodes: prompts past their cached prefix, and
    # a preempted sequence's history when it is recomputed.
    prefill_tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    _recent: deque[tuple[float, int]] = field(default_factory=deque, repr=False)

    def record_step(self, is_prefill: bool, generated: int, now: float | None = None, prefill_tokens: int = 0) -> None:
        now = time.monotonic() if now is None else now
        self.steps += 1
        self.prefill_steps += is_prefill
        self.prefill_tokens += prefill_tokens
        self.generated_tokens += generated
        self._recent.append((now, generated))
        while self._recent and self._recent[0][0] < now - THROUGHPUT_WINDOW_S:
            self._recent.popleft()

    def tokens_per_second(self, now: float | None = None) -> float:
        """Output tokens per second over the last THROUGHPUT_WINDOW_S seconds (or since start)."""
        now = time.monotonic() if now is None else now
        recent = [n for t, n in list(self._recent) if t >= now - THROUGHPUT_WINDOW_S]
        return sum(recent) / max(min(THROUGHPUT_WINDOW_S, now - self.started), 1e-3)

    def report(self) -> dict[str, float]:
        """The counters under their /metrics names."""
        return {
            "generation_tokens_per_second": self.tokens_per_second(),
            "prompt_tokens": self.prompt_tokens,
            "prefill_tokens": self.prefill_tokens,
            "generation_tokens": self.generated_tokens,
            "requests_finished": self.finished_requests,
            "requests_aborted": self.aborted_requests,
            "requests_cut_at_default_bound": self.default_bound_cuts,
            "requests_cut_looping": self.looping_cuts,
            "steps": self.steps,
        }
