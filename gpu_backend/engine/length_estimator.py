"""Output-length estimates for scheduling: imprecise on purpose, and refined as tokens arrive.

Per category, the lengths of recent finished answers. The estimate for a request that
has produced n tokens so far is a conservative upper quantile of the recorded lengths
longer than n (a request still going is known to be longer than n); with no such
history, twice what it has produced or `default`, whichever is more. Always capped at
the request's own max_tokens.
"""

import math
from collections import deque

from gpu_backend.errors import InvalidConfig


class OutputLengthEstimator:
    def __init__(self, quantile: float = 0.9, history: int = 256, default: int = 128) -> None:
        if not 0 < quantile <= 1:
            raise InvalidConfig("quantile must be in (0, 1]")
        self.quantile = quantile
        self.default = default
        self._history: dict[str, deque[int]] = {}
        self._size = history

    def record(self, category: str, num_output_tokens: int) -> None:
        for key in {category, ""}:  # "" pools every category, for categories not seen yet
            self._history.setdefault(key, deque(maxlen=self._size)).append(num_output_tokens)

    def total(self, category: str, generated: int, max_tokens: int | None) -> int:
        """Estimated final output length of a request that has produced `generated` tokens."""
        history = self._history.get(category) or self._history.get("") or ()
        longer = sorted(length for length in history if length > generated)
        if longer:
            estimate = longer[min(len(longer) - 1, math.ceil(self.quantile * (len(longer) - 1)))]
        else:
            estimate = max(2 * generated, self.default)
        if max_tokens is not None:
            estimate = min(estimate, max_tokens)
        return max(estimate, generated + 1)

    def remaining(self, category: str, generated: int, max_tokens: int | None) -> int:
        return self.total(category, generated, max_tokens) - generated
