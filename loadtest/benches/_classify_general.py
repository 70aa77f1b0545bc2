"""The shipped policy's classifier on everyday questions of our own, and the calibration of its confidence.

CLINC150 measures the classifier on CLINC's own ten domains; a gateway sees general questions, and
the harm there is a question landing in a category whose policy does not fit it ("What is the
chemical symbol for gold?" kept 60 s as finance). loadtest/data/classify/general.jsonl holds 232
labelled questions in 24 families (topics such as chemistry, arithmetic, cooking, live stock prices,
orders), each family wholly in the `tune` or the `heldout` half. The confidence calibration and its
floor are fitted on `tune` only; `heldout` is where they are judged (docs/policies.md).

Each question counts as right (its category), `default` (uncertain: cached conservatively, a few lost
hits) or misrouted; a misroute `changes_policy` when the two categories' policies differ in TTL,
verifier threshold or scope (code and general knowledge share one, so a how-to taken for code
loses nothing): the harm this measures.
"""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from policies.classifier import CategoryClassifier
from policies.schema import DEFAULT_CATEGORY, ConfidenceCalibration, PolicySet

GENERAL = Path(__file__).resolve().parents[1] / "data" / "classify" / "general.jsonl"
FLOOR_GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


@dataclass(frozen=True)
class Labelled:
    text: str
    category: str
    family: str
    split: str  # tune | heldout


def read_general(path: Path = GENERAL) -> list[Labelled]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [Labelled(r["text"], r["category"], r["family"], r["split"]) for r in rows]


def judge(classifier: CategoryClassifier, policies: PolicySet, rows: Sequence[Labelled], vectors: np.ndarray) -> dict:
    """Right / default / misrouted shares over `rows`, per category, and the misrouted questions."""
    outcomes, wrong = Counter(), []
    per_category: dict[str, Counter] = {}
    for row, vector in zip(rows, vectors):
        got = classifier.classify(row.text, vector)
        kind = ("right" if got.category == row.category
                else "default" if got.category == DEFAULT_CATEGORY else "misrouted")
        outcomes[kind] += 1
        per_category.setdefault(row.category, Counter())[kind] += 1
        if kind == "misrouted":
            changes = _policy_of(policies, got.category) != _policy_of(policies, row.category)
            outcomes["changes_policy"] += changes
            wrong.append({"text": row.text, "label": row.category, "got": got.category, "changes_policy": changes,
                          "confidence": round(got.confidence, 3), "source": got.source})
    n = max(len(rows), 1)
    return {"questions": len(rows), "accuracy": outcomes["right"] / n, "sent_to_default": outcomes["default"] / n,
            "misrouted": outcomes["misrouted"] / n, "misrouted_changing_policy": outcomes["changes_policy"] / n,
            "per_category": {c: {k: counts[k] / sum(counts.values()) for k in ("right", "default", "misrouted")}
                             for c, counts in sorted(per_category.items())},
            "misrouted_questions": wrong}


def _policy_of(policies: PolicySet, category: str) -> tuple:
    """What a user notices of a category: how long answers live, how strict a hit is, who shares them."""
    policy = policies.get(category)
    return policy.ttl_seconds, policy.verifier_threshold, policy.is_shared, policy.personal


def fit_calibration(classifier: CategoryClassifier, rows: Sequence[Labelled], vectors: np.ndarray,
                    l2: float = 1e-3) -> ConfidenceCalibration:
    """Logistic regression of "the embedding's best category is right" on (best score, lead) over `rows`
    that no rule claims (rules are certain by construction)."""
    features, labels = [], []
    for row, vector in zip(rows, vectors):
        if any(rule.matches(row.text) for rule in classifier.rules):
            continue
        chosen = classifier.embedding_choice(row.text, vector)
        if chosen is None:
            continue
        scores = classifier.scores(vector)
        others = np.delete(scores, chosen)
        features.append([scores[chosen], scores[chosen] - others.max()])
        labels.append(float(classifier.names[chosen] == row.category))
    x = np.column_stack([np.asarray(features, dtype=np.float64), np.ones(len(features))])
    y = np.asarray(labels)
    weights = np.zeros(3)
    penalty = np.diag([l2, l2, 0.0])  # the intercept is not shrunk
    for _ in range(50):  # Newton's method: the log-loss is convex, a few steps converge
        p = 1.0 / (1.0 + np.exp(-x @ weights))
        gradient = x.T @ (p - y) + penalty @ weights
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return ConfidenceCalibration(score=round(float(weights[0]), 3), margin=round(float(weights[1]), 3),
                                 bias=round(float(weights[2]), 3))


def best_floor(classifier: CategoryClassifier, policies: PolicySet, rows: Sequence[Labelled],
               vectors: np.ndarray) -> float:
    """The floor with the most right answers minus misroutes that change the policy on `rows` (the lowest
    on a tie: fewer questions lose their category)."""
    scored = []
    for floor in FLOOR_GRID:
        judged = judge(classifier.recalibrated(classifier.settings.calibration, float(floor)), policies, rows, vectors)
        scored.append((judged["accuracy"] - judged["misrouted_changing_policy"], -floor))
    return float(-max(scored)[1])


def report(model, policy_path: Path, general_path: Path, fit: bool) -> dict:
    """The shipped (or `policy_path`) classifier on both halves; with `fit`, the calibration and floor fitted
    on the tune half replace the file's before the held-out half is judged."""
    from policies.loader import load_policy_file

    policies = load_policy_file(policy_path)
    classifier = CategoryClassifier.build(policies, lambda texts: model.encode(list(texts)))
    rows = read_general(general_path)
    vectors = model.encode([r.text for r in rows])
    halves = {}
    for split in ("tune", "heldout"):
        chosen = [i for i, r in enumerate(rows) if r.split == split]
        halves[split] = ([rows[i] for i in chosen], vectors[chosen])
    result = {"policies": str(policy_path), "data": str(general_path),
              "families": {split: len({r.family for r in half[0]}) for split, half in halves.items()},
              "as_configured": {split: judge(classifier, policies, *half) for split, half in halves.items()}}
    if fit:
        calibration = fit_calibration(classifier, *halves["tune"])
        floor = best_floor(classifier.recalibrated(calibration, 0.5), policies, *halves["tune"])
        fitted = classifier.recalibrated(calibration, floor)
        result["fitted_on_tune"] = {
            "confidence_floor": floor, "calibration": {"score": calibration.score, "margin": calibration.margin,
                                                       "bias": calibration.bias},
            **{split: judge(fitted, policies, *half) for split, half in halves.items()}}
    return result


def print_report(result: dict) -> None:
    print(f"\neveryday questions ({result['data']}; {result['families']['tune']} tune / "
          f"{result['families']['heldout']} held-out families), policy {result['policies']}")
    print(f"{'':<28}{'split':<9}{'right':>7}{'default':>9}{'misrouted':>11}{'(policy)':>10}")
    runs = [("as configured", result["as_configured"])]
    if "fitted_on_tune" in result:
        runs.append(("calibration fitted on tune", result["fitted_on_tune"]))
    for name, run in runs:
        for split in ("tune", "heldout"):
            j = run[split]
            print(f"{name:<28}{split:<9}{j['accuracy']:>7.3f}{j['sent_to_default']:>9.3f}{j['misrouted']:>11.3f}"
                  f"{j['misrouted_changing_policy']:>10.3f}")
    if "fitted_on_tune" in result:
        fitted = result["fitted_on_tune"]
        print(f"fitted (paste under classifier: in the policy file): confidence_floor: {fitted['confidence_floor']}, "
              f"calibration: {fitted['calibration']}")
    for wrong in result["as_configured"]["heldout"]["misrouted_questions"]:
        print(f"  held-out misrouted: {wrong['text']!r} ({wrong['label']} -> {wrong['got']}, {wrong['source']})")
