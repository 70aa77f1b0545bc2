"""Open-loop arrival processes: seeded inter-arrival gaps at a target rate.

Gamma gaps with shape k = 1/CV² and mean 1/rate: CV = 1 is Poisson, CV > 1 bursty, CV < 1 smoother.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

_BATCH = 256


@dataclass(frozen=True)
class ArrivalProcess:
    rate: float  # requests per second
    cv: float = 1.0  # coefficient of variation of the gaps
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate must be > 0 requests/s, got {self.rate}")
        if self.cv <= 0:
            raise ValueError(f"cv must be > 0, got {self.cv}")

    @property
    def kind(self) -> str:
        return "poisson" if self.cv == 1.0 else f"gamma(cv={self.cv:g})"

    def gaps(self) -> Iterator[float]:
        """Endless inter-arrival gaps in seconds."""
        rng = np.random.default_rng(self.seed)
        shape = 1.0 / self.cv**2
        while True:
            if self.cv == 1.0:
                batch = rng.exponential(1.0 / self.rate, size=_BATCH)
            else:
                batch = rng.gamma(shape, 1.0 / (self.rate * shape), size=_BATCH)
            yield from (float(g) for g in batch)

    def send_times(self, horizon_s: float, max_count: int) -> Iterator[float]:
        """Arrival offsets from the start of the run (the first at t=0) before the horizon, at most max_count."""
        t, produced = 0.0, 0
        gaps = self.gaps()
        while produced < max_count and t < horizon_s:
            yield t
            produced += 1
            t += next(gaps)
