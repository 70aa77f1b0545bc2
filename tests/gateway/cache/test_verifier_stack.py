"""The stacked verifier: which candidates the cross-encoder reads, how the head combines, how thresholds are chosen.

The cross-encoder runs through PyTorch here (the int8 graph is test_cross_encoder.py's subject), on the
shipped weights, with the shipped feature verifier beside it.
"""

import numpy as np
import pytest

from gateway.cache.cross_encoder_verifier import VERIFY_TOP, CrossEncoderVerifier
from gateway.cache.train_verifier_stack import GRID, Source, operating_points, sweep
from gateway.cache.verifier import Verifier, VerifierInfo
from gateway.cache.verifier_features import context_of, pair_features, view
from gateway.cache.verifier_stack import (
    CROSS_ENCODER_PATH,
    INPUTS,
    StackedVerifier,
    StackHead,
    read_head,
    save_head,
    stack_inputs,
)

QUERY = "Can I get a refund if my flight is cancelled?"
CANDIDATES = [("if my flight gets cancelled can i get my money back", 0.91),
              ("Can I get a refund if my train is cancelled?", 0.95),
              ("How do I bake sourdough bread?", 0.62),
              ("Can I get a refund if my flight is delayed?", 0.93)]


@pytest.fixture(scope="module")
def stacked() -> StackedVerifier:
    head = StackHead(np.zeros(3, np.float32), np.ones(3, np.float32), np.asarray([0.8, 0.5, 2.0], np.float32),
                     -1.0, (1.2, 0.1))
    return StackedVerifier(Verifier.load(), CrossEncoderVerifier.load(CROSS_ENCODER_PATH, backend="torch"), head,
                           VerifierInfo(INPUTS, {"0.015": 0.8}, {"top_k": 8}))


def test_only_the_most_similar_candidates_are_read_and_the_rest_cannot_hit(stacked):
    query = view(QUERY)
    candidates = [(view(text), cosine) for text, cosine in CANDIDATES]
    similarities = [cosine for _, cosine in CANDIDATES]
    probabilities = stacked.probabilities(query, candidates, similarities)
    read = sorted(range(len(CANDIDATES)), key=lambda i: -CANDIDATES[i][1])[:VERIFY_TOP]
    assert [i for i, p in enumerate(probabilities) if p > 0] == sorted(read)
    for i in read:  # each read candidate: the head over the feature logit, the cross-encoder logit and the cosine
        text, cosine = CANDIDATES[i]
        features = pair_features(query, view(text), cosine, context_of(cosine, similarities), stacked.features.idf)
        inputs = stack_inputs(stacked.features.raw_logits(features[None, :]),
                              stacked.cross.raw_logits([(QUERY, text)]), np.asarray([cosine]))
        assert probabilities[i] == pytest.approx(float(stacked.head.probabilities(inputs)[0]), rel=1e-5)
    assert stacked.probabilities(query, [], []).shape == (0,)


def test_a_head_fitted_on_other_inputs_is_refused(tmp_path):
    head = StackHead(np.zeros(2, np.float32), np.ones(2, np.float32), np.ones(2, np.float32), 0.0, (1.0, 0.0))
    save_head(tmp_path / "head.npz", head, VerifierInfo(("cosine", "feature_logit"), {}, {}))
    with pytest.raises(ValueError, match="fitted on inputs"):
        read_head(tmp_path / "head.npz")
    good = StackHead(np.zeros(3, np.float32), np.ones(3, np.float32), np.ones(3, np.float32), 0.5, (2.0, -1.0))
    save_head(tmp_path / "good.npz", good, VerifierInfo(INPUTS, {"0.01": 0.9}, {"top_k": 8}))
    loaded, info = read_head(tmp_path / "good.npz")
    x = np.asarray([[1.0, -2.0, 0.9]], np.float32)
    assert loaded.probabilities(x) == pytest.approx(good.probabilities(x)) and info.thresholds == {"0.01": 0.9}


def _source(name: str, seed: int, lookups: int = 400) -> tuple[Source, np.ndarray]:
    rng = np.random.default_rng(seed)
    label = rng.random(lookups) < 0.4
    probability = np.clip(0.5 + 0.3 * (label - 0.5) + 0.25 * rng.normal(size=lookups), 0.0, 1.0)
    answerable = label | (rng.random(lookups) < 0.1)
    source = Source(name, np.arange(lookups), rng.uniform(0.7, 1.0, lookups).astype(np.float32), label.astype(int),
                    np.zeros(lookups), np.zeros(lookups), np.zeros(lookups, int), answerable, np.zeros(lookups, bool))
    return source, probability


def test_every_operating_point_keeps_its_false_hit_rate_on_every_source_and_a_looser_one_finds_more():
    sources = [_source("a", 0), _source("b", 1)]
    table = operating_points([s for s, _ in sources], [p for _, p in sources])
    for target, row in table.items():
        assert all(r["false_hit_rate"] <= float(target) for r in row["by_source"].values())
        for source, probability in sources:  # what the table says is what the replay gives
            recall, fhr = sweep(source, probability, row["floor"])
            i = int(np.argmin(np.abs(GRID - row["threshold"])))
            assert row["by_source"][source.name]["recall"] == pytest.approx(recall[i], abs=1e-4)
            assert row["by_source"][source.name]["false_hit_rate"] == pytest.approx(fhr[i], abs=1e-4)
    recalls = [table[t]["mean_recall"] for t in sorted(table, key=float)]
    assert recalls == sorted(recalls) and recalls[-1] > recalls[0]


def test_an_exact_repeat_always_hits_and_a_candidate_below_the_floor_never_does():
    source, _ = _source("a", 2, lookups=50)
    source.exact[:5] = True
    source.answerable[:5] = True
    recall, _ = sweep(source, np.ones(50), floor=1.01)  # nothing reaches the floor: only the exact repeats hit
    assert np.allclose(recall, 5 / source.answerable.sum())
