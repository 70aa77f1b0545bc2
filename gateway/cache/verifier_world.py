"""A cache world replayed for the verifier's training: what the verifier meets at run time.

Pairs are cut into worlds of consecutive pairs; in each, every `a` is stored, each `b` retrieves its top-k
neighbours above the context floor, and a neighbour is a positive only when duplicate labels link it to the
query (transitively). The last world is held out. `train_verifier` trains on these rows, the stack's trainer
and the suite's rows (verifier_suite_rows.py) replay their own pairs the same way, so all share this module.
"""

import sys
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from gateway.cache.evaluation import DuplicateLinks, Pair
from gateway.cache.guards import Facts, extract_facts, rejection
from gateway.cache.text import content_words, normalise, stem
from gateway.cache.verifier_features import (
    CONTEXT_FLOOR,
    FEATURES,
    IDF_BUCKETS,
    QuestionView,
    context_of,
    pair_features,
    view,
    word_bucket,
)


@dataclass
class Candidates:
    """Retrieved (query, stored question) rows with their labels, and the lookups they belong to."""

    query: np.ndarray  # text index of the query, per row
    cand: np.ndarray  # text index of the stored question, per row
    similarity: np.ndarray
    context: np.ndarray  # context_of() per row
    label: np.ndarray  # 1 when duplicate labels link them
    lookup: np.ndarray  # which lookup (pair) the row belongs to
    held_out: np.ndarray  # per lookup
    answerable: np.ndarray  # per lookup: some stored question is linked to it
    exact: np.ndarray  # per lookup: its own text is stored (the exact tier answers)


def hashed_idf(texts: list[str]) -> np.ndarray:
    """Inverse document frequency of stemmed content words, in hashed buckets (small to ship)."""
    df = np.zeros(IDF_BUCKETS, np.float64)
    for text in texts:
        for bucket in {word_bucket(stem(w)) for w in content_words(text)}:
            df[bucket] += 1
    return (np.log((len(texts) + 1) / (df + 1)) + 1.0).astype(np.float32)


def retrieve(pairs: list[Pair], texts: list[str], vectors: np.ndarray, k: int, world_size: int) -> Candidates:
    """Simulate the cache on consecutive worlds of `world_size` pairs; the last world is held out."""
    position = {t: i for i, t in enumerate(texts)}
    worlds = world_slices(len(pairs), world_size)
    columns: dict[str, list] = {name: [] for name in ("query", "cand", "similarity", "context", "label", "lookup")}
    held_out: list[bool] = []
    answerable: list[bool] = []
    exact: list[bool] = []
    for number, world in enumerate(worlds):
        world_pairs = [pairs[i] for i in world]
        links = DuplicateLinks(world_pairs)
        stored_by_key: dict[str, int] = {}
        for p in world_pairs:
            stored_by_key.setdefault(normalise(p.a), position[p.a])
        stored = np.fromiter(stored_by_key.values(), dtype=np.int64)
        stored_groups = [links.group(texts[i]) for i in stored]
        groups_with_entries = set(stored_groups)
        matrix = vectors[stored]
        for start in tqdm(
            range(0, len(world_pairs), 1024), desc=f"retrieving, world {number + 1}/{len(worlds)}", file=sys.stderr
        ):
            chunk = world_pairs[start : start + 1024]
            sims = vectors[[position[p.b] for p in chunk]] @ matrix.T
            top = np.argpartition(-sims, k, axis=1)[:, :k]
            for i, p in enumerate(chunk):
                lookup = len(held_out)
                group = links.group(p.b)
                held_out.append(number == len(worlds) - 1)
                answerable.append(group in groups_with_entries)
                exact.append(normalise(p.b) in stored_by_key)
                # The exact tier answers a stored text before the semantic tier runs; lower
                # neighbours are neither candidates nor context.
                kept = [
                    j for j in top[i] if sims[i, j] >= CONTEXT_FLOOR and normalise(texts[stored[j]]) != normalise(p.b)
                ]
                similarities = [float(sims[i, j]) for j in kept]
                for j, similarity in zip(kept, similarities, strict=True):
                    columns["query"].append(position[p.b])
                    columns["cand"].append(int(stored[j]))
                    columns["similarity"].append(similarity)
                    columns["context"].append(context_of(similarity, similarities))
                    columns["label"].append(int(stored_groups[j] == group))
                    columns["lookup"].append(lookup)
    return Candidates(
        **{k: np.asarray(v) for k, v in columns.items()},
        held_out=np.asarray(held_out),
        answerable=np.asarray(answerable),
        exact=np.asarray(exact),
    )


def world_slices(pairs: int, world_size: int) -> list[np.ndarray]:
    """Consecutive worlds of about `world_size` pairs (in file order); the last one is held out."""
    return np.array_split(np.arange(pairs), max(1, round(pairs / world_size)))


def held_out_world(pairs: list[Pair], world_size: int) -> list[Pair]:
    """The dev pairs the verifier never trained on: they calibrated it, and they choose the thresholds."""
    return [pairs[i] for i in world_slices(len(pairs), world_size)[-1]]


def guard_vetoed(rows: Candidates, texts: list[str]) -> np.ndarray:
    """Per row, whether the guards (all on, as the default policy has them) veto the pair. The cache asks the
    verifier only about the candidates the guards pass, so train_verifier learns QQP's rows from those alone (a
    reversed route the guards catch would teach it to distrust the reordered wordings they let by); the suite's
    everyday rows keep theirs (verifier_suite_rows.py)."""
    from policies.schema import GuardPolicy

    switches = GuardPolicy()
    facts: dict[int, Facts] = {}
    out = np.zeros(len(rows.label), bool)
    for r in range(len(rows.label)):
        q, c = int(rows.query[r]), int(rows.cand[r])
        fq = facts.get(q) or facts.setdefault(q, extract_facts(texts[q]))
        fc = facts.get(c) or facts.setdefault(c, extract_facts(texts[c]))
        out[r] = rejection(fq, fc, switches) is not None
    return out


def featurise(rows: Candidates, texts: list[str], idf: np.ndarray) -> np.ndarray:
    views: dict[int, QuestionView] = {}
    out = np.empty((len(rows.label), len(FEATURES)), np.float32)
    for r in tqdm(range(len(rows.label)), desc="features", file=sys.stderr, mininterval=1.0):
        q, c = int(rows.query[r]), int(rows.cand[r])
        qv = views.get(q) or views.setdefault(q, view(texts[q]))
        cv = views.get(c) or views.setdefault(c, view(texts[c]))
        out[r] = pair_features(qv, cv, float(rows.similarity[r]), list(rows.context[r]), idf)
    return out
