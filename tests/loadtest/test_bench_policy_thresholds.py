"""The CLINC150 check in `semgate bench policy-thresholds`, applied to one pair for every category:
which single (similarity, verifier) pairs pass it, and the best of them at a false-hit budget."""

import numpy as np

from loadtest.benches.policy_thresholds import (SIMILARITY_GRID, VERIFIER_GRID, Lookups, best_safe_pair,
                                                clinc_safe_pairs)


def _group(probabilities: list[float], correct: list[bool]) -> Lookups:
    """One candidate per lookup, all at cosine 0.95, each lookup answerable."""
    n = len(probabilities)
    return Lookups(similarity=np.full((n, 1), 0.95), probability=np.array(probabilities)[:, None],
                   correct=np.array(correct)[:, None], guard_ok=np.ones((n, 1), bool),
                   answerable=np.ones(n, bool), exact=np.zeros(n, bool))


def test_a_single_pair_is_safe_only_where_every_category_with_enough_lookups_is():
    # "chat": 100 right hits at p 0.9 and 20 other-intent hits at p 0.7 -> a verifier threshold above 0.7 is
    # needed (20/120 is over 5%); "tiny": too few lookups to judge (its wrong hits do not count).
    chat = _group([0.9] * 100 + [0.7] * 20, [True] * 100 + [False] * 20)
    tiny = _group([0.99] * 10, [False] * 10)
    safe = clinc_safe_pairs({"chat": chat, "tiny": tiny}, target=0.05, verifier=True)
    v = lambda x: int(np.argmin(np.abs(VERIFIER_GRID - x)))  # noqa: E731
    s = int(np.argmin(np.abs(SIMILARITY_GRID - 0.90)))
    assert not safe[s, v(0.70)] and safe[s, v(0.71)] and safe[s, v(0.95)]
    assert safe[int(np.argmin(np.abs(SIMILARITY_GRID - 0.96))), v(0.0)]  # above every candidate's cosine: no hits
    assert not clinc_safe_pairs({"chat": chat}, 0.05, verifier=False)[:, 1:].any()  # no verifier: threshold 0 only


def test_the_best_safe_pair_keeps_to_the_false_hit_budget_and_the_safe_set():
    right = np.zeros((len(SIMILARITY_GRID), len(VERIFIER_GRID)))
    hits = np.zeros_like(right)
    right[0, 10], hits[0, 10] = 50, 60  # 10 false hits: over a budget of 5
    right[0, 20], hits[0, 20] = 40, 44  # within it, but not safe
    right[0, 30], hits[0, 30] = 30, 32  # within it and safe
    safe = np.ones_like(right, bool)
    safe[0, 20] = False
    pair = best_safe_pair(np.stack([right, hits], axis=-1), should_miss=100, max_rate=0.05, safe=safe)
    assert pair == (float(SIMILARITY_GRID[0]), float(VERIFIER_GRID[30]))
    assert best_safe_pair(np.stack([right, hits], axis=-1), 100, 0.05, np.zeros_like(safe)) is None
