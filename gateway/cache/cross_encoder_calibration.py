"""From the verifier's raw logits to a probability, and from a target false-hit rate to a threshold.

Both are fitted on held-out families only (gateway/cache/cross_encoder_dataset.py): Platt scaling maps a
logit to P(same question) on the retrieved candidates of the held-out QQP world, the cases the cache
meets; then that world is replayed as the cache decides (candidates at or above the similarity floor,
guards on, the VERIFY_TOP most similar scored, a hit when the best probability reaches the threshold,
exact repeats answered by the exact tier) and, for each target false-hit rate (false hits / lookups
that should miss, as `semgate bench cache-quality` counts them), the lowest threshold that keeps to it
is kept, so a threshold reads as a false-hit rate.
"""

from collections.abc import Callable

import numpy as np

from gateway.cache.cross_encoder_dataset import Labelled, Lookup
from gateway.cache.evaluation import Outcome, summarise
from gateway.cache.guards import Facts, extract_facts, rejection

TARGET_FALSE_HIT_RATES = ("0.0025", "0.005", "0.0075", "0.01", "0.015", "0.02", "0.03", "0.05")
# Up to 1.0, which no probability below it reaches: a rate no other threshold keeps to gets "never hit".
THRESHOLD_GRID = np.round(np.arange(0.05, 1.0001, 0.005), 3)


def platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6).fit(logits.reshape(-1, 1), labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def verified_candidates(lookups: list[Lookup], floor: float, top: int) -> list[list[tuple[str, bool]]]:
    """Per lookup, the (stored text, right?) candidates the cache would send to the verifier."""
    from policies.schema import GuardPolicy

    switches = GuardPolicy()
    facts: dict[str, Facts] = {}

    def facts_of(text: str) -> Facts:
        return facts.get(text) or facts.setdefault(text, extract_facts(text))

    chosen: list[list[tuple[str, bool]]] = []
    for lookup in lookups:
        passing = [
            (text, right)
            for text, similarity, right in lookup.candidates
            if similarity >= floor and rejection(facts_of(lookup.query), facts_of(text), switches) is None
        ]
        chosen.append(passing[:top])  # candidates are in descending similarity
    return chosen


def threshold_table(
    lookups: list[Lookup], chosen: list[list[tuple[str, bool]]], probability: Callable[[str, str], float]
) -> dict[str, dict]:
    """target false-hit rate -> {threshold, recall, false_hit_rate, ...} on the replayed lookups."""
    best = []
    for lookup, candidates in zip(lookups, chosen, strict=True):
        scored = [(probability(lookup.query, text), right) for text, right in candidates]
        best.append(max(scored, default=(-1.0, False)))

    def at(threshold: float) -> dict:
        outcomes = [
            Outcome(
                "all", lookup.answerable, lookup.exact or p >= threshold, lookup.exact or (p >= threshold and right)
            )
            for lookup, (p, right) in zip(lookups, best, strict=True)
        ]
        return {"threshold": float(threshold), **summarise(outcomes)}

    sweep = [at(t) for t in THRESHOLD_GRID]
    table = {}
    for target in TARGET_FALSE_HIT_RATES:
        allowed = [r for r in sweep if r["false_hit_rate"] <= float(target)]
        table[target] = max(allowed, key=lambda r: (r["recall"], r["threshold"]))
    return table


def by_kind(pairs: list[Labelled], probabilities: np.ndarray, threshold: float) -> dict[str, dict]:
    """Per kind of held-out pair: how many, and the share the verifier gets right at `threshold`."""
    out: dict[str, dict] = {}
    for pair, p in zip(pairs, probabilities, strict=True):
        row = out.setdefault(pair.kind, {"pairs": 0, "should_hit": 0, "right": 0})
        row["pairs"] += 1
        row["should_hit"] += pair.label
        row["right"] += int((p >= threshold) == bool(pair.label))
    return {k: {**v, "accuracy": round(v["right"] / v["pairs"], 4)} for k, v in sorted(out.items())}
