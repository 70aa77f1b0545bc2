"""Judging a cache on labelled question pairs (QQP and the like).

Shared by the verifier's training script and the cache-quality benchmark so both judge a
hit the same way: correct when the cached question is the query's own text or linked to it
through duplicate labels, transitively across pairs; false otherwise (labels are partial,
so a hit on a question no label links to the query counts against the cache).
"""

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.cache.text import normalise


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    duplicate: bool
    category: str | None = None
    context_a: tuple[dict, ...] = ()
    context_b: tuple[dict, ...] = ()
    # semgate's own suite (loadtest/data/cache_suite) says what each pair tests; QQP rows have none of these.
    kind: str | None = None
    domain: str | None = None
    family: str | None = None


def read_pairs(path: str | Path, split: str | None = None, limit: int | None = None) -> list[Pair]:
    """Lines {"a", "b", "duplicate"} (+ optional "category", "context_a"/"context_b", "split", "kind",
    "domain", "family")."""
    opener = gzip.open if str(path).endswith(".gz") else open
    pairs = []
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            if split is not None and row.get("split") != split:
                continue
            pairs.append(
                Pair(
                    row["a"],
                    row["b"],
                    bool(row["duplicate"]),
                    row.get("category"),
                    tuple(row.get("context_a") or ()),
                    tuple(row.get("context_b") or ()),
                    row.get("kind"),
                    row.get("domain"),
                    row.get("family"),
                )
            )
            if limit is not None and len(pairs) >= limit:
                break
    return pairs


def conversation_text(question: str, context: tuple[dict, ...] | list[dict]) -> str:
    """A question with the turns before it, as one text: the unit a duplicate label speaks about.

    Without earlier turns it is the question itself, so single-turn data is judged as before; with
    them, "yes please" after one offer and after another are different questions unless a label
    links the two conversations.
    """
    if not context:
        return question
    turns = [f"{m.get('role')}: {_content(m.get('content'))}" for m in context]
    return "\n".join([*turns, f"user: {question}"])


def _content(content: object) -> str:
    return content if isinstance(content, str) else json.dumps(content, sort_keys=True)


class DuplicateLinks:
    """Union-find over normalised question texts joined by duplicate labels."""

    def __init__(self, pairs: list[Pair]) -> None:
        self._parent: dict[str, str] = {}
        for pair in pairs:
            a, b = self._find(normalise(pair.a)), self._find(normalise(pair.b))
            if pair.duplicate and a != b:
                self._parent[a] = b

    def linked(self, x: str, y: str) -> bool:
        return self._find(normalise(x)) == self._find(normalise(y))

    def group(self, text: str) -> str:
        return self._find(normalise(text))

    def _find(self, key: str) -> str:
        root = key
        while self._parent.setdefault(root, root) != root:
            root = self._parent[root]
        while self._parent[key] != root:  # path compression
            self._parent[key], key = root, self._parent[key]
        return root


@dataclass(frozen=True)
class Outcome:
    """One lookup, judged."""

    category: str
    answerable: bool  # some stored entry is a correct answer to it
    hit: bool
    correct: bool  # the hit's question is linked to the query (False on a miss)


def summarise(outcomes: Iterable[Outcome]) -> dict[str, float | int]:
    """queries, hit_rate, precision, recall, false_hit_rate and the counts behind them.

    recall = correct hits / answerable queries; false_hit_rate = false hits / queries that
    should miss (no correct answer is stored), the false-positive rate of the hit decision.
    false_hits_per_hit (= 1 - precision) and false_hits_per_query put the same count over
    hits and over all queries.
    """
    queries = hits = correct = answerable = 0
    for o in outcomes:
        queries += 1
        hits += bool(o.hit)
        correct += bool(o.hit and o.correct)
        answerable += bool(o.answerable)
    false = hits - correct
    should_miss = queries - answerable
    return {
        "queries": queries,
        "answerable": answerable,
        "hits": hits,
        "correct_hits": correct,
        "false_hits": false,
        "hit_rate": hits / queries if queries else 0.0,
        "precision": correct / hits if hits else 1.0,
        "recall": correct / answerable if answerable else 0.0,
        "false_hit_rate": false / should_miss if should_miss else float(false > 0),
        "false_hits_per_hit": false / hits if hits else 0.0,
        "false_hits_per_query": false / queries if queries else 0.0,
    }


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of `scores` against 0/1 `labels`: the chance a positive outranks a negative
    (Mann-Whitney, ties broken by order); every verifier's training reports it on its held-out part."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    positives = labels.sum()
    negatives = len(labels) - positives
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / max(positives * negatives, 1))
