"""The shipped cross-encoder verifier: its int8 graph, its calibration, and what it tells apart.

The pairs below were written for this test (none is in the training data): each question comes with
a rewording that asks the same and a change that asks something else.
"""

import asyncio
import threading

import numpy as np
import pytest

from gateway.cache.cross_encoder import PairTokenizer, Shipped
from gateway.cache.cross_encoder_onnx import MAX_LOGIT_ERROR, logit_error
from gateway.cache.verifier import VERIFY_TOP, WEIGHTS_PATH, TorchPairScorer

# (question, the same asked another way, a trap: another question in nearly the same words)
CASES = [
    ("Can I get a refund if my flight is cancelled?", "if my flight gets cancelled can i get my money back",
     "Can I get a refund if my flight is not cancelled?"),  # negation
    ("Is it cheaper to fly from Madrid to Lisbon?", "hey, is flying from Madrid to Lisbon cheaper?",
     "Is it cheaper to fly from Lisbon to Madrid?"),  # direction
    ("Does the clinic open at 8 am on Saturdays?", "Is the clinic open at 8 am on Saturday?",
     "Does the clinic open at 8 pm on Saturdays?"),  # time of day
    ("How do I convert miles to kilometers?", "What's the way to convert miles into kilometers?",
     "How do I convert kilometers to miles?"),  # direction
    ("How much is a monthly pass for the subway?", "What does a monthly subway pass cost?",
     "How much is a yearly pass for the subway?"),  # scope of time
    ("What is the best laptop for students?", "Which laptop is best for a student?",
     "What is the worst laptop for students?"),  # antonym
    ("Can I bring 2 suitcases on an international flight?", "Hi! can I bring 2 suitcases on an international flight?",
     "Can I bring 3 suitcases on an international flight?"),  # number
    ("Is the pool open to hotel guests only?", "is the pool only open for guests of the hotel",
     "Is the pool open to everyone?"),  # scope
]


@pytest.fixture(scope="module")
def shipped() -> Shipped:
    return Shipped.load(WEIGHTS_PATH)


def test_the_int8_graph_the_gateway_runs_gives_the_logits_of_the_trained_network(verifier, shipped):
    assert verifier.backend == "onnx"
    pairs = [(q, same) for q, same, _ in CASES] + [(q, trap) for q, _, trap in CASES]
    error = logit_error(TorchPairScorer(shipped).module, verifier.scorer, PairTokenizer(shipped.max_tokens), pairs)
    assert error <= MAX_LOGIT_ERROR


def test_a_pair_scores_the_same_alone_and_among_others(verifier):
    pairs = [(q, same) for q, same, _ in CASES]
    together = verifier.score_pairs(pairs)
    alone = np.concatenate([verifier.score_pairs([p]) for p in pairs])
    np.testing.assert_array_equal(together, alone)


def test_the_calibration_is_a_probability_rising_with_the_logit_and_thresholds_fall_as_the_rate_rises(verifier):
    slope, _ = verifier.info.calibration
    assert slope > 0
    rates = sorted(verifier.info.thresholds, key=float)
    thresholds = [verifier.info.thresholds[r] for r in rates]
    assert all(a >= b for a, b in zip(thresholds, thresholds[1:]))
    assert verifier.threshold_for(0.015) == pytest.approx(verifier.info.thresholds["0.015"])
    assert thresholds[-1] <= verifier.threshold_for(0.012) <= thresholds[0]


def test_each_trap_scores_below_its_rewording_and_under_the_shipped_thresholds(verifier):
    same = verifier.score_pairs([(q, s) for q, s, _ in CASES])
    traps = verifier.score_pairs([(q, t) for q, _, t in CASES])
    for (question, _, trap), p_same, p_trap in zip(CASES, same, traps):
        assert p_trap < p_same, (question, trap, p_trap, p_same)
    assert (traps < verifier.threshold_for(0.015)).all(), traps


def test_most_rewordings_clear_a_lenient_threshold(verifier):
    same = verifier.score_pairs([(q, s) for q, s, _ in CASES])
    assert (same >= verifier.threshold_for(0.05)).mean() >= 0.75, same


async def test_only_the_most_similar_candidates_are_scored_and_off_the_event_loop(verifier, monkeypatch):
    threads = []
    score_pairs = verifier.score_pairs

    def recording(pairs):
        threads.append(threading.current_thread())
        return score_pairs(pairs)

    monkeypatch.setattr(verifier, "score_pairs", recording)
    question, same, trap = CASES[0]
    candidates = [(trap, 0.95), None, (same, 0.97), ("How do I bake bread?", 0.71)]
    probabilities = await verifier.verify(question, candidates)
    assert threads and threads[0] is not threading.main_thread()
    scored = [i for i, p in enumerate(probabilities) if p is not None]
    assert scored == sorted([0, 2])[:VERIFY_TOP]
    assert probabilities[2] > probabilities[0]
    assert await verifier.verify(question, [None, None]) == [None, None]
    assert len(await asyncio.gather(*(verifier.score([(question, same)]) for _ in range(3)))) == 3
