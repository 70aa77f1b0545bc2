"""The category classifier on hand-placed embeddings: rules first, then nearest examples, then the floor."""

import textwrap

import numpy as np
import pytest

from policies.classifier import CategoryClassifier
from policies.loader import parse_policy_text
from policies.prototypes import condense, normalize_rows

# Three directions in a 4-d space; the fourth axis is "nothing the policy knows about".
PLACES = {
    "sort a list": [1.0, 0.0, 0.0, 0.0],
    "reverse a string": [0.9, 0.1, 0.0, 0.0],
    "hello": [0.0, 1.0, 0.0, 0.0],
    "good morning": [0.1, 0.9, 0.0, 0.0],
    "my balance": [0.0, 0.0, 1.0, 0.0],
    "my last invoice": [0.0, 0.1, 0.9, 0.0],
}

POLICY = """\
classifier: {top_k: 2, confidence_floor: 0.5}
categories:
  - name: code
    examples: [sort a list, reverse a string]
    keywords: [python]
    patterns: ['```']
  - name: chat
    examples: [hello, good morning]
    keywords: [today]
  - name: account
    personal: true
    examples: [my balance, my last invoice]
    keywords: [my account]
  - name: default
"""


def place(texts):
    return np.array([PLACES[t] for t in texts], dtype=np.float32)


def build(policy_text: str = POLICY) -> CategoryClassifier:
    return CategoryClassifier.build(parse_policy_text(textwrap.dedent(policy_text)), place)


def test_nearest_examples_decide_when_no_rule_matches():
    classifier = build()
    result = classifier.classify("how do I flip an array", np.array([0.95, 0.05, 0.0, 0.1]))
    assert (result.category, result.source) == ("code", "embedding")
    assert 0.5 < result.confidence < 1.0
    assert classifier.classify("hi there", np.array([0.05, 1.0, 0.0, 0.0])).category == "chat"


def test_a_rule_wins_over_the_embedding():
    result = build().classify("Is Python fast?", np.array([0.0, 1.0, 0.0, 0.0]))  # embedding says chat
    assert (result.category, result.confidence, result.source) == ("code", 1.0, "rule")


def test_keywords_match_whole_words_only():
    classifier = build()
    assert classifier.classify("pythonic musings", np.array([0.0, 1.0, 0.0, 0.0])).category == "chat"


def test_personal_rules_come_before_every_other_category():
    # "today" is a chat keyword listed earlier, but the account question must stay private.
    result = build().classify("what happened to my account today", np.array([0.0, 1.0, 0.0, 0.0]))
    assert (result.category, result.source) == ("account", "rule")


def test_below_the_confidence_floor_the_default_category_takes_it():
    result = build().classify("what is the airspeed of a swallow", np.array([0.2, 0.2, 0.1, 1.0]))
    assert result.category == "default" and result.source == "default"
    assert result.confidence < 0.5


def test_scores_are_mean_cosine_of_the_k_nearest_examples():
    classifier = build()
    query = np.array([1.0, 0.0, 0.0, 0.0])
    scores = dict(zip(classifier.names, classifier.scores(query * 3.0)))  # the scale of the query does not matter
    expected = (1.0 + float(normalize_rows(np.array([[0.9, 0.1, 0, 0]]))[0, 0])) / 2
    assert np.isclose(scores["code"], expected)
    assert set(classifier.names) == {"code", "chat", "account"}  # default has no examples


def test_a_category_with_fewer_examples_than_k_scores_its_own_examples():
    classifier = build(POLICY.replace("examples: [hello, good morning]", "examples: [hello]"))
    scores = dict(zip(classifier.names, classifier.scores(np.array([0.0, 1.0, 0.0, 0.0]))))
    assert np.isclose(scores["chat"], 1.0)


def test_policy_with_rules_only_classifies_by_rules_and_else_default():
    policy = """\
    categories:
      - name: news
        keywords: [headlines]
      - name: default
    """
    classifier = CategoryClassifier.build(parse_policy_text(textwrap.dedent(policy)), place)
    assert classifier.classify("todays headlines", np.ones(4)).category == "news"
    assert classifier.classify("anything else", np.ones(4)).source == "default"


def test_many_examples_are_condensed_to_at_most_max_prototypes():
    rng = np.random.default_rng(1)
    # Two tight clusters per category, 200 examples each.
    centers = normalize_rows(rng.normal(size=(4, 16)))
    vectors = {}
    texts_of = {"left": [], "right": []}
    for c, name in enumerate(["left", "left", "right", "right"]):
        for i in range(100):
            text = f"{name}-{c}-{i}"
            vectors[text] = centers[c] + 0.05 * rng.normal(size=16)
            texts_of[name].append(text)
    policy = parse_policy_text(
        "classifier: {max_prototypes: 8}\ncategories:\n"
        + "".join(f"  - name: {n}\n    examples: [{', '.join(t)}]\n" for n, t in texts_of.items())
        + "  - name: default\n"
    )
    classifier = CategoryClassifier.build(policy, lambda texts: np.stack([vectors[t] for t in texts]))
    assert classifier.prototype_count <= 16
    assert classifier.classify("q", centers[1]).category == "left"
    assert classifier.classify("q", centers[2]).category == "right"


def test_condense_is_deterministic_and_keeps_small_sets_as_they_are():
    rng = np.random.default_rng(0)
    vectors = normalize_rows(rng.normal(size=(50, 8)))
    assert condense(vectors, 64) is vectors
    first, second = condense(vectors, 5), condense(vectors, 5)
    assert first.shape == (5, 8) and np.array_equal(first, second)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)


def test_a_category_whose_required_words_are_absent_is_never_chosen_by_the_embedding():
    gated = POLICY.replace("    keywords: [my account]\n",
                           "    keywords: [my account]\n    requires_patterns: ['\\bmy\\b']\n")
    classifier = build(gated)
    near_account = np.array([0.0, 0.2, 0.95, 0.0])
    assert classifier.classify("what is my balance now", near_account).category == "account"
    # The same meaning without "my": the next category that may take it (chat), never the account.
    result = classifier.classify("what is a balance", near_account)
    assert result.category != "account"
    assert result.category == "default"  # chat scores far under the floor


def test_a_calibrated_confidence_sends_a_question_close_to_two_categories_to_default():
    calibrated = POLICY.replace("classifier: {top_k: 2, confidence_floor: 0.5}",
                                "classifier: {top_k: 2, confidence_floor: 0.5, "
                                "calibration: {score: 4.0, margin: 20.0, bias: -3.0}}")
    classifier = build(calibrated)
    clear = classifier.classify("flip an array", np.array([0.95, 0.05, 0.0, 0.1]))
    assert clear.category == "code" and clear.confidence > 0.9
    # As close to code as to chat: a good raw score but no lead, so a guess.
    torn = classifier.classify("sort my greetings", np.array([0.7, 0.7, 0.0, 0.0]))
    assert torn.category == "default" and torn.confidence < 0.5
    uncalibrated = build().classify("sort my greetings", np.array([0.7, 0.7, 0.0, 0.0]))
    assert uncalibrated.category in ("code", "chat")


def test_calibration_and_required_patterns_are_validated(write_policy):
    from policies.errors import PolicyError
    from policies.loader import load_policy_file

    bad = POLICY.replace("classifier: {top_k: 2, confidence_floor: 0.5}",
                         "classifier: {top_k: 2, calibration: {score: high}}")
    bad = bad.replace("    keywords: [python]\n", "    keywords: [python]\n    requires_patterns: ['(unclosed']\n")
    with pytest.raises(PolicyError) as rejected:
        load_policy_file(write_policy(bad))
    assert "classifier.calibration.score" in str(rejected.value) and "requires_patterns" in str(rejected.value)
