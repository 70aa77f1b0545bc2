"""The verifier's slot features: the aligned diff of two questions' content words, WordNet's related words counted
as the same; and weights trained on fewer features read only those."""

import numpy as np

from gateway.cache.substitutions import slot_difference
from gateway.cache.verifier import Verifier, VerifierInfo
from gateway.cache.verifier_features import FEATURES, IDF_BUCKETS, SLOT_FEATURES, view


def difference(query: str, cached: str):
    return slot_difference(view(query).slots, view(cached).slots)


def test_a_synonym_swap_changes_no_slot_that_matters():
    swap = difference("What is the fastest way to the airport?", "What is the quickest way to the airport?")
    assert swap.changes == 1 and swap.unrelated == () and not swap.minimal_pair


def test_one_slot_filled_with_something_else_is_a_minimal_pair():
    swap = difference("How long does raw rice last in the fridge?", "How long does cooked rice last in the fridge?")
    assert swap.changes == 1 and set(swap.unrelated) == {"raw", "cooked"} and swap.minimal_pair
    added = difference("Can I return opened shoes to Target?", "Can I return shoes to Target?")
    assert added.unrelated == ("opened",) and added.minimal_pair


def test_a_reordered_question_moves_words_without_changing_them():
    moved = difference("Which train gets me to Leeds before 9 am?", "Before 9 am, which train gets me to Leeds?")
    assert moved.changes >= 1 and moved.unrelated == () and not moved.minimal_pair


def test_a_rewording_changes_several_slots_so_it_is_no_minimal_pair():
    reworded = difference("How do I freeze my debit card in the app?", "is there a way to lock my card using the app")
    assert reworded.changes >= 2 and not reworded.minimal_pair


def test_weights_trained_before_the_slot_features_read_the_columns_they_know():
    rng = np.random.default_rng(0)
    known = tuple(f for f in FEATURES if f not in SLOT_FEATURES)
    layers = [(rng.normal(size=(len(known), 4)).astype(np.float32), np.zeros(4, np.float32))]
    layers.append((rng.normal(size=(4, 1)).astype(np.float32), np.zeros(1, np.float32)))
    idf = np.ones(IDF_BUCKETS, np.float32)
    mean, scale = np.zeros(len(known), np.float32), np.ones(len(known), np.float32)
    old = Verifier(mean, scale, layers, (1.0, 0.0), idf, VerifierInfo(known, {}, {}))
    rows = rng.normal(size=(5, len(FEATURES))).astype(np.float32)
    columns = [FEATURES.index(f) for f in known]
    hidden = np.maximum(rows[:, columns] @ layers[0][0], 0.0)
    assert np.allclose(old.raw_logits(rows), (hidden @ layers[1][0])[:, 0], atol=1e-5)
