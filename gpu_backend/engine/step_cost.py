"""How long a step takes as a function of its tokens: t = a + b * tokens, fitted online.

Least squares over the observed steps with exponential forgetting, so the model follows
a machine whose speed drifts (other load, thermal). Starts from a prior worth a few steps.
"""


class StepCostModel:
    def __init__(self, fixed_s: float = 0.02, per_token_s: float = 0.002, decay: float = 0.98) -> None:
        self.decay = decay
        self._prior = (fixed_s, per_token_s)
        self._s0 = self._sn = self._snn = self._st = self._snt = 0.0
        for tokens in (1, 64):  # the prior, as two pseudo-observations
            self._add(tokens, fixed_s + per_token_s * tokens, weight=2.0)

    def _add(self, tokens: float, seconds: float, weight: float = 1.0) -> None:
        self._s0 += weight
        self._sn += weight * tokens
        self._snn += weight * tokens * tokens
        self._st += weight * seconds
        self._snt += weight * tokens * seconds

    def observe(self, num_tokens: int, seconds: float) -> None:
        for name in ("_s0", "_sn", "_snn", "_st", "_snt"):
            setattr(self, name, getattr(self, name) * self.decay)
        self._add(num_tokens, seconds)

    @property
    def coefficients(self) -> tuple[float, float]:
        """(fixed seconds per step, seconds per token), both non-negative."""
        denominator = self._s0 * self._snn - self._sn**2
        if denominator <= 1e-12:
            return self._prior
        per_token = max(0.0, (self._s0 * self._snt - self._sn * self._st) / denominator)
        fixed = max(0.0, (self._st - per_token * self._sn) / self._s0)
        return fixed, per_token

    def predict(self, num_tokens: int) -> float:
        fixed, per_token = self.coefficients
        return fixed + per_token * num_tokens
