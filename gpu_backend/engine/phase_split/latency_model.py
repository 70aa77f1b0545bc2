"""Each phase's step latency as a function of its compute share, fit from observed steps.

    log(seconds) = a + b * log(tokens) - g * log(effective cores)

fit by least squares over a sliding window of steps of that phase. `g` is how well the
phase scales with its share (1: linearly; small decode batches on a CPU scale poorly).
Until the window holds steps at two different shares `g` cannot be told from `a`, and a
prior is used (PRIOR_SCALING) with `a`, `b` still fit.
"""

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

PRIOR_SCALING = {"prefill": 0.8, "decode": 0.5}
WINDOW_STEPS = 256


@dataclass
class StepObservation:
    tokens: int
    seconds: float
    effective_cores: float


class PhaseLatencyModel:
    def __init__(self, phase: str, window: int = WINDOW_STEPS) -> None:
        self.phase = phase
        self.steps: deque[StepObservation] = deque(maxlen=window)
        self.intercept = 0.0
        self.token_exponent = 0.0
        self.scaling = PRIOR_SCALING[phase]

    def observe(self, tokens: int, seconds: float, effective_cores: float) -> None:
        if tokens > 0 and seconds > 0 and effective_cores > 0:
            self.steps.append(StepObservation(tokens, seconds, effective_cores))

    def fit(self) -> None:
        if not self.steps:
            return
        tokens = np.log([s.tokens for s in self.steps])
        cores = np.log([s.effective_cores for s in self.steps])
        seconds = np.log([s.seconds for s in self.steps])
        varied_tokens = np.ptp(tokens) > 1e-6
        if np.ptp(cores) > 1e-6:  # shares differ: fit the scaling too (clipped to a sane range)
            columns = [np.ones_like(tokens), -cores] + ([tokens] if varied_tokens else [])
            coef = np.linalg.lstsq(np.stack(columns, axis=1), seconds, rcond=None)[0]
            self.scaling = float(np.clip(coef[1], 0.0, 1.5))
        target = seconds + self.scaling * cores
        if varied_tokens:
            coef = np.linalg.lstsq(np.stack([np.ones_like(tokens), tokens], axis=1), target, rcond=None)[0]
            self.intercept, self.token_exponent = float(coef[0]), float(coef[1])
        else:
            self.intercept = float(target.mean() - self.token_exponent * tokens.mean())

    def predict(self, tokens: float, effective_cores: float) -> float:
        """Seconds for a step of `tokens` tokens on `effective_cores` cores."""
        return math.exp(
            self.intercept + self.token_exponent * math.log(max(tokens, 1.0)) - self.scaling * math.log(effective_cores)
        )

    def slowdown(self, cores_from: float, cores_to: float) -> float:
        """How much longer a step takes on `cores_to` than on `cores_from` (any size)."""
        return (cores_from / cores_to) ** self.scaling
