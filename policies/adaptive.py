"""Load-adaptive policy: while an upstream is overloaded, the categories routed to it accept looser
cache hits (thresholds move down toward their `adaptive` bounds) and keep entries longer (TTL up to
`max_ttl_factor`), so more traffic is answered from the cache; both recover as the load falls.

Pure logic: the gateway feeds load samples with their timestamps and asks for effective values.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from policies.load import NORMAL, LoadSample, LoadState, UpstreamLoad
from policies.schema import CategoryPolicy, PolicySet


@dataclass(frozen=True)
class EffectivePolicy:
    similarity_threshold: float
    verifier_threshold: float
    ttl_seconds: float
    load_level: str  # "normal" | "overloaded" (of the upstream the values were computed for)
    pressure: float  # 0 (configured values) .. 1 (at the adaptive bounds)


def adjust(category: CategoryPolicy, load: LoadState) -> EffectivePolicy:
    bounds, p = category.adaptive, load.pressure
    return EffectivePolicy(
        similarity_threshold=category.similarity_threshold
        - p * (category.similarity_threshold - bounds.min_similarity),
        verifier_threshold=category.verifier_threshold - p * (category.verifier_threshold - bounds.min_verifier),
        ttl_seconds=category.ttl_seconds * (1.0 + p * (bounds.max_ttl_factor - 1.0)),
        load_level=load.level,
        pressure=p,
    )


_IDLE = LoadState(NORMAL, 0.0, 0.0, None)


class LoadAdaptivePolicy:
    """Per-upstream load states plus the policy set they adjust.

    A category's upstreams are those serving the models in its `routing.models` (through
    `upstream_of_model`), or `default_upstream` when it names none. When a category can go to
    several upstreams it follows the least loaded one: the router sends its misses there.
    """

    def __init__(self, policies: PolicySet, upstream_of_model: Mapping[str, str], default_upstream: str):
        self.policies = policies
        self.upstream_of_model = dict(upstream_of_model)
        self.default_upstream = default_upstream
        self._upstreams: dict[str, UpstreamLoad] = {}

    def observe(self, upstream: str, sample: LoadSample, now: float) -> LoadState:
        tracker = self._upstreams.get(upstream)
        if tracker is None:
            tracker = self._upstreams[upstream] = UpstreamLoad(self.policies.load)
        return tracker.observe(sample, now)

    def replace_policies(self, policies: PolicySet) -> None:
        """After a hot reload: new categories and load settings, the measured load is kept."""
        self.policies = policies
        for tracker in self._upstreams.values():
            tracker.settings = policies.load

    def load_states(self) -> dict[str, LoadState]:
        return {name: tracker.state for name, tracker in self._upstreams.items()}

    def upstreams_of(self, category: CategoryPolicy) -> tuple[str, ...]:
        routed = {self.upstream_of_model.get(m, self.default_upstream) for m in category.routing.models}
        return tuple(sorted(routed)) or (self.default_upstream,)

    def effective(self, category: str, upstream: str | None = None) -> EffectivePolicy:
        """Effective values for `category`; pass `upstream` when the request's upstream is already known."""
        policy = self.policies.get(category)
        candidates = (upstream,) if upstream is not None else self.upstreams_of(policy)
        states = [self._state(name) for name in candidates]
        return adjust(policy, min(states, key=lambda s: s.pressure))

    def effective_category(self, category: str, upstream: str | None = None) -> CategoryPolicy:
        """The category's policy with its effective threshold and TTL: what the cache reads."""
        values = self.effective(category, upstream)
        return dataclasses.replace(
            self.policies.get(category),
            similarity_threshold=values.similarity_threshold,
            verifier_threshold=values.verifier_threshold,
            ttl_seconds=values.ttl_seconds,
        )

    def _state(self, upstream: str) -> LoadState:
        tracker = self._upstreams.get(upstream)
        return tracker.state if tracker is not None else _IDLE
