"""The cross-encoder verifier's parts: its int8 graph against PyTorch, its calibration, its rewrites, its lookup call.

The graph is checked on the network `train_cross_encoder` starts from (the bundled MiniLM's first two layers and
a fresh head), built here rather than read from the shipped weights: the export does not depend on the weights'
values, only on the architecture the trained file has too.
"""

import asyncio
import random
import threading

import numpy as np
import pytest

from gateway.cache.cross_encoder import PairTokenizer, SavedWeights, pair_classifier, trainable_tensors
from gateway.cache.cross_encoder_calibration import platt, threshold_table
from gateway.cache.cross_encoder_dataset import Lookup
from gateway.cache.cross_encoder_onnx import MAX_LOGIT_ERROR, export, logit_error
from gateway.cache.cross_encoder_rewrites import TRAPS, with_detail
from gateway.cache.cross_encoder_verifier import VERIFY_TOP, CrossEncoderVerifier, TorchPairScorer

PAIRS = [
    ("Can I get a refund if my flight is cancelled?", "if my flight gets cancelled can i get my money back"),
    ("Is it cheaper to fly from Madrid to Lisbon?", "Is it cheaper to fly from Lisbon to Madrid?"),
    ("Does the clinic open at 8 am on Saturdays?", "Does the clinic open at 8 pm on Saturdays?"),
    ("How do I convert miles to kilometers?", "Hey! quick question: how do I convert miles into kilometers? " * 4),
]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("cross-encoder") / "weights.npz"
    thresholds = {"0.005": 0.9, "0.01": 0.8, "0.02": 0.7}
    SavedWeights(2, 64, trainable_tensors(pair_classifier(2)), (1.5, 0.2), thresholds, {"floor": 0.8}).save(path)
    return path


@pytest.fixture(scope="module")
def verifier(saved, tmp_path_factory) -> CrossEncoderVerifier:
    return CrossEncoderVerifier.load(saved, cache_dir=tmp_path_factory.mktemp("models"))


def test_the_int8_graph_gives_the_logits_of_the_pytorch_network(verifier, saved):
    assert verifier.backend == "onnx" and verifier.scorer.path.exists()
    reference = TorchPairScorer(SavedWeights.load(saved)).module
    assert logit_error(reference, verifier.scorer, PairTokenizer(64), PAIRS) <= MAX_LOGIT_ERROR


def test_a_graph_that_disagrees_with_pytorch_is_never_kept(saved, tmp_path, monkeypatch):
    monkeypatch.setattr("gateway.cache.cross_encoder_onnx.MAX_LOGIT_ERROR", -1.0)  # nothing can agree that well
    with pytest.raises(ValueError, match="disagrees with PyTorch"):
        export(SavedWeights.load(saved), tmp_path / "graph.onnx")
    assert not (tmp_path / "graph.onnx").exists()


def test_probabilities_follow_the_saved_platt_calibration_and_a_pair_scores_the_same_in_any_company(verifier):
    slope, intercept = verifier.info.calibration
    raw = verifier.raw_logits(PAIRS)
    np.testing.assert_allclose(verifier.score_pairs(PAIRS), 1 / (1 + np.exp(-(slope * raw + intercept))), rtol=1e-5)
    alone = np.concatenate([verifier.score_pairs([p]) for p in PAIRS])
    np.testing.assert_array_equal(verifier.score_pairs(PAIRS), alone)


def test_a_false_hit_rate_reads_as_a_threshold_between_the_measured_ones(verifier):
    assert verifier.threshold_for(0.01) == pytest.approx(0.8)
    assert verifier.threshold_for(0.015) == pytest.approx(0.75)
    assert verifier.threshold_for(0.5) == pytest.approx(0.7)  # beyond the table: its most lenient threshold


def test_platt_rises_with_the_logit_and_a_stricter_rate_never_gets_a_lower_threshold():
    rng = np.random.default_rng(0)
    labels = rng.random(4000) < 0.4
    logits = rng.normal(size=4000) + 2.0 * labels
    slope, _ = platt(logits, labels.astype(int))
    assert slope > 0
    lookups, chosen, probability = [], [], {}
    for i, (x, right) in enumerate(zip(logits, labels)):
        text = f"stored {i}"
        lookups.append(Lookup(f"query {i}", [(text, 0.9, bool(right))], answerable=bool(right or i % 3), exact=False))
        chosen.append([(text, bool(right))])
        probability[(f"query {i}", text)] = 1 / (1 + np.exp(-slope * x))
    table = threshold_table(lookups, chosen, lambda q, c: probability[(q, c)])
    rates = sorted(table, key=float)
    assert all(table[r]["false_hit_rate"] <= float(r) for r in rates)
    assert all(table[a]["threshold"] >= table[b]["threshold"] for a, b in zip(rates, rates[1:]))
    assert all(table[a]["recall"] <= table[b]["recall"] for a, b in zip(rates, rates[1:]))


@pytest.mark.parametrize("kind,question,changed", [
    ("direction", "Is it cheaper to fly from Madrid to Lisbon?", "Is it cheaper to fly from Lisbon to Madrid?"),
    ("direction", "How do I move money from savings to my checking account?",
     "How do I move money from my checking account to savings?"),
    ("time", "Does the clinic open at 8 am on Saturdays?", "Does the clinic open at 8 pm on Saturdays?"),
    ("negation", "Is the museum open on Mondays?", "Is the museum not open on Mondays?"),
    ("negation", "Is it open on Mondays?", "Is it not open on Mondays?"),
    ("negation", "Why doesn't my card work abroad?", "Why does my card work abroad?"),
    ("scope", "Is breakfast included in the price?", "Is breakfast excluded in the price?"),
])
def test_each_trap_rewrite_changes_what_is_asked_and_only_that(kind, question, changed):
    assert TRAPS[kind](question, random.Random(0)) == changed


def test_a_detail_is_added_before_the_question_mark_and_its_trap_changes_it():
    rng = random.Random(3)
    for _ in range(30):
        detailed, kind = with_detail("What is the best way to get there?", rng)
        assert detailed.startswith("What is the best way to get there ") and detailed.endswith("?")
        trapped = TRAPS[kind](detailed, rng)
        assert trapped and trapped != detailed
    assert with_detail("Tell me about Rome.", rng) is None


async def test_only_the_most_similar_candidates_are_scored_and_off_the_event_loop(verifier, monkeypatch):
    threads = []
    score_pairs = verifier.score_pairs

    def recording(pairs):
        threads.append(threading.current_thread())
        return score_pairs(pairs)

    monkeypatch.setattr(verifier, "score_pairs", recording)
    question, other = PAIRS[0]
    candidates = [(other, 0.95), None, (question, 0.97), ("How do I bake bread?", 0.71)]
    probabilities = await verifier.verify(question, candidates)
    assert threads == [threads[0]] and threads[0] is not threading.main_thread()
    assert [i for i, p in enumerate(probabilities) if p is not None] == [0, 2][:VERIFY_TOP]
    assert probabilities[0] == pytest.approx(float(verifier.score_pairs([(question, other)])[0]))
    assert await verifier.verify(question, [None, None]) == [None, None]
    assert len(await asyncio.gather(*(verifier.score([(question, other)]) for _ in range(3)))) == 3
