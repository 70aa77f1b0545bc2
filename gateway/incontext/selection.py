"""Choosing the examples for a miss: score, drop near-duplicates, fit the token budget, order.

Score = similarity x weight(utility) (gateway/incontext/utility.py). Candidates are taken best
first; one nearly identical to an example already taken is skipped (two copies of one question
teach nothing new and spend the budget twice); one that does not fit the remaining budget is
skipped for a smaller one. The chosen set is then put in canonical order (by entry id), so two
requests given the same examples send the same prefix and the backend's radix cache shares it.
"""

from collections.abc import Sequence

import numpy as np

from gateway.incontext.examples import Example
from gateway.incontext.tokens import TokenCounter, turn_tokens
from gateway.incontext.utility import weight


def score(example: Example) -> float:
    return example.similarity * weight(example.utility)


def select(
    candidates: Sequence[Example], k: int, token_budget: int, counter: TokenCounter, duplicate_similarity: float
) -> list[Example]:
    chosen: list[Example] = []
    spent = 0
    for candidate in sorted(candidates, key=lambda e: (-score(e), e.entry_id)):
        if len(chosen) == k:
            break
        if any(_cosine(candidate.embedding, other.embedding) >= duplicate_similarity for other in chosen):
            continue
        cost = turn_tokens(counter, candidate.question, candidate.answer)
        if spent + cost > token_budget:
            continue
        chosen.append(candidate)
        spent += cost
    return canonical_order(chosen)


def canonical_order(examples: Sequence[Example]) -> list[Example]:
    return sorted(examples, key=lambda e: e.entry_id)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12))
