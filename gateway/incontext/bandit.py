"""The router's learned part: expected answer quality per (category, model, example evidence).

Each arm starts from a prior (PRIOR_WEIGHT pseudo-observations of the tier's prior quality for
that evidence level) and moves with every feedback reward in [0, 1]; the choice adds an
upper-confidence bonus, so an arm that feedback has rarely judged gets tried now and then.
Deterministic given the same feedback: tests and replays see the same choices. Kept in memory:
a restarted gateway starts again from the priors.
"""

import math
import threading
from dataclasses import dataclass

from gateway.incontext.settings import STRONG

# How strong the examples found for a request are, from the best example's score (similarity x
# utility weight, gateway/incontext/selection.py): none found; weak; good (similar); proven (similar
# and with a record of helping: feedback or replay raised its utility).
NONE, WEAK, GOOD, PROVEN = "none", "weak", "good", "proven"
GOOD_EVIDENCE = 0.75
PROVEN_EVIDENCE = 1.1  # e.g. similarity 0.9 with utility >= 0.4
PRIOR_WEIGHT = 2.0
PRIORS = {
    STRONG: {NONE: 0.9, WEAK: 0.9, GOOD: 0.9, PROVEN: 0.9},
    "small": {NONE: 0.3, WEAK: 0.55, GOOD: 0.8, PROVEN: 0.9},
}


def evidence(best_score: float | None) -> str:
    if best_score is None:
        return NONE
    if best_score >= PROVEN_EVIDENCE:
        return PROVEN
    return GOOD if best_score >= GOOD_EVIDENCE else WEAK


@dataclass
class Arm:
    prior: float
    rewards: float = 0.0
    pulls: int = 0

    @property
    def mean(self) -> float:
        return (PRIOR_WEIGHT * self.prior + self.rewards) / (PRIOR_WEIGHT + self.pulls)


class QualityBandit:
    def __init__(self, exploration: float) -> None:
        self.exploration = exploration
        self._arms: dict[tuple[str, str, str], Arm] = {}
        self._total = 0
        self._lock = threading.Lock()

    def arm(self, category: str, model: str, tier: str, level: str) -> Arm:
        key = (category, model, level)
        found = self._arms.get(key)
        if found is None:
            found = self._arms[key] = Arm(PRIORS[tier][level])
        return found

    def estimate(self, category: str, model: str, tier: str, level: str) -> float:
        """Expected quality plus the exploration bonus."""
        arm = self.arm(category, model, tier, level)
        bonus = self.exploration * math.sqrt(math.log(self._total + 2) / (PRIOR_WEIGHT + arm.pulls))
        return arm.mean + bonus

    def reward(self, category: str, model: str, tier: str, level: str, reward: float) -> None:
        with self._lock:
            arm = self.arm(category, model, tier, level)
            arm.rewards += min(1.0, max(0.0, reward))
            arm.pulls += 1
            self._total += 1
