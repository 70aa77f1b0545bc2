"""The verifier's everyday training rows come from the suite's tune half only, labelled by duplicate links."""

import json
from pathlib import Path

import numpy as np
import pytest

from gateway.cache.embedder import EmbeddingModel
from gateway.cache.evaluation import read_pairs
from gateway.cache.verifier_features import FEATURES, IDF_BUCKETS
from gateway.cache.verifier_suite_rows import suite_rows
from gateway.cache.verifier_world import guard_vetoed, retrieve

ROWS = [
    {
        "a": "How do I freeze my debit card in the app?",
        "b": "is there a way to lock my debit card in the app",
        "duplicate": True,
        "domain": "banking",
        "split": "tune",
    },
    {
        "a": "How do I freeze my debit card in the app?",
        "b": "How do I unfreeze my debit card in the app?",
        "duplicate": False,
        "domain": "banking",
        "split": "tune",
    },
    {
        "a": "How do I freeze my debit card in the app?",
        "b": "How do I freeze my stolen debit card in the app?",
        "duplicate": False,
        "domain": "banking",
        "split": "tune",
    },
    {
        "a": "Can I bring my cat on a train?",
        "b": "Am I allowed to take my cat on a train?",
        "duplicate": True,
        "domain": "travel",
        "split": "tune",
    },
    {
        "a": "How early should I get to the airport for a domestic flight?",
        "b": "when should i be at the airport for a flight inside the country",
        "duplicate": True,
        "domain": "travel",
        "split": "tune",
    },
    {
        "a": "Is my GP open on Saturday?",
        "b": "Is my doctor's surgery open on Saturdays?",
        "duplicate": True,
        "domain": "health",
        "split": "heldout",
    },
]


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "single.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS))
    return path


@pytest.fixture(scope="module")
def model() -> EmbeddingModel:
    return EmbeddingModel()


def test_only_tune_pairs_are_read_and_labelled_by_their_links(suite_file: Path, model: EmbeddingModel) -> None:
    rows = suite_rows(suite_file, model, np.ones(IDF_BUCKETS, np.float32), top_k=8)
    assert rows.pairs == 5  # the held-out pair never reaches training
    assert rows.features.shape[1] == len(FEATURES)
    assert set(rows.labels.tolist()) == {0, 1}  # the stolen-card trap retrieves the freeze question as a negative


def test_the_guards_veto_is_read_per_row_and_suite_rows_keep_the_vetoed_traps(suite_file: Path, model: EmbeddingModel):
    # QQP's rows are trained on what the guards pass (train_verifier.py); the suite's keep "unfreeze" / "freeze",
    # which the antonyms guard vetoes here, so the verifier learns the everyday traps it must catch where the
    # guards miss them. "stolen" passes the guards either way.
    pairs = read_pairs(suite_file, split="tune")
    texts = sorted({t for p in pairs for t in (p.a, p.b)})
    replay = retrieve(pairs, texts, model.encode(texts), 2, world_size=len(pairs))
    vetoed = guard_vetoed(replay, texts)
    verdict = {(texts[q], texts[c]): v for q, c, v in zip(replay.query, replay.cand, vetoed, strict=True)}
    freeze = "How do I freeze my debit card in the app?"
    assert verdict[("How do I unfreeze my debit card in the app?", freeze)]
    assert not verdict[("How do I freeze my stolen debit card in the app?", freeze)]
    rows = suite_rows(suite_file, model, np.ones(IDF_BUCKETS, np.float32), top_k=2)
    assert len(rows.labels) == len(vetoed)


def test_a_domain_filter_reads_only_those_domains(suite_file: Path, model: EmbeddingModel) -> None:
    assert suite_rows(suite_file, model, np.ones(IDF_BUCKETS, np.float32), 8, frozenset({"travel"})).pairs == 2
    with pytest.raises(ValueError, match="no tune pairs"):
        suite_rows(suite_file, model, np.ones(IDF_BUCKETS, np.float32), 8, frozenset({"health"}))
