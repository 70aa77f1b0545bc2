"""Choosing the model for a miss: expected quality given the examples, load, and cost.

    score(model) = quality(category, model, evidence) - cost_weight * cost / max cost
                   - load_weight * load(model)

quality comes from the bandit (gateway/incontext/bandit.py); evidence is how good the examples
found for this request are (none / weak / good). A small model is only offered examples when
it is the one chosen, so with no examples its prior quality is low and it wins only when the
strong model is loaded or the category has taught the bandit otherwise. Load is the larger of
the model's own requests in flight over its capacity and its upstream's smoothed load index
(policies/load.py), so an overloaded strong model sheds traffic to the small one.

Each tenant has its own bandit: what one tenant's pins and feedback teach moves only its own
choices (a tenant's negative feedback on the strong model once sent every tenant to the small
one). Load is shared, because the upstreams are.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.incontext.bandit import QualityBandit
from gateway.incontext.settings import ModelConfig, RouterWeights


@dataclass(frozen=True)
class Choice:
    model: ModelConfig
    scores: dict[str, float]  # every candidate's score (debugging, tests)


class Router:
    def __init__(
        self, models: Sequence[ModelConfig], weights: RouterWeights, upstream_load: Callable[[ModelConfig], float]
    ) -> None:
        self.models = {m.name: m for m in models}
        self.weights = weights
        self._bandits: dict[str, QualityBandit] = {}  # per tenant; tenants come from the config, so bounded
        self.in_flight: dict[str, int] = {m.name: 0 for m in models}
        self._upstream_load = upstream_load
        self._max_cost = max((m.cost_per_1k_tokens for m in models), default=1.0) or 1.0

    def bandit_for(self, tenant: str) -> QualityBandit:
        bandit = self._bandits.get(tenant)
        if bandit is None:
            bandit = self._bandits[tenant] = QualityBandit(self.weights.exploration)
        return bandit

    def load(self, model: ModelConfig) -> float:
        return max(self.in_flight[model.name] / model.capacity, self._upstream_load(model))

    def choose(
        self, tenant: str, category: str, candidates: Sequence[ModelConfig], level_of: Callable[[ModelConfig], str]
    ) -> Choice:
        w = self.weights
        bandit = self.bandit_for(tenant)
        scores = {}
        for model in candidates:
            quality = bandit.estimate(category, model.name, model.tier, level_of(model))
            scores[model.name] = (
                quality - w.cost_weight * model.cost_per_1k_tokens / self._max_cost - w.load_weight * self.load(model)
            )
        best = max(candidates, key=lambda m: (scores[m.name], -m.cost_per_1k_tokens, m.name))
        return Choice(best, scores)

    def started(self, model: str) -> None:
        self.in_flight[model] += 1

    def finished(self, model: str) -> None:
        self.in_flight[model] = max(0, self.in_flight[model] - 1)
