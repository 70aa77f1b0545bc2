"""Training rows for the duplicate verifier from semgate's own everyday suite (its `tune` half only).

QQP's duplicates are questions people typed on one forum; the everyday suite's are the same question across
registers (casual, formal, synonyms, reordered clauses) beside traps that change one fact. The verifier
trained on QQP alone reads the first kind. `suite_rows` replays the suite's tune half as one more cache world
(every `a` stored, each `b` retrieving its neighbours, labelled by duplicate links), so the verifier learns
from candidates like those it meets in everyday traffic. Only the `tune` domains are read: the `heldout`
half's domains and templates never reach training (`python -m gateway.cache.train_verifier --suite`).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.cache.embedder import EmbeddingModel
from gateway.cache.evaluation import read_pairs
from gateway.cache.verifier_world import featurise, retrieve

TUNE_SPLIT = "tune"


@dataclass(frozen=True)
class SuiteRows:
    """Retrieved candidates of the suite's tune half and their features, ready to join the training rows."""

    features: np.ndarray
    labels: np.ndarray
    pairs: int


def suite_rows(
    path: Path, model: EmbeddingModel, idf: np.ndarray, top_k: int, domains: frozenset[str] | None = None
) -> SuiteRows:
    """The single-turn suite's tune pairs (`domains` of them only, when given) replayed as one cache world."""
    pairs = [p for p in read_pairs(path, split=TUNE_SPLIT) if domains is None or p.domain in domains]
    if not pairs:
        raise ValueError(f"no {TUNE_SPLIT} pairs in {path}" + (f" for domains {sorted(domains)}" if domains else ""))
    stored = len({p.a for p in pairs})
    if stored < 2:
        raise ValueError(f"{stored} question to store in {path}: a replay needs at least two")
    texts = sorted({t for p in pairs for t in (p.a, p.b)})
    vectors = model.encode(texts)
    # A small file stores fewer questions than the cache retrieves: each lookup takes all the others.
    rows = retrieve(pairs, texts, vectors, min(top_k, stored - 1), world_size=len(pairs))
    # Every retrieved candidate, guard-vetoed traps included (unlike QQP's rows, train_verifier.py): the everyday
    # traps the guards catch on these domains ("6 pm" / "on a Saturday", "in euros") are the ones the verifier must
    # catch on domains where the guards miss them.
    return SuiteRows(featurise(rows, texts, idf), rows.label.astype(np.int64), len(pairs))
