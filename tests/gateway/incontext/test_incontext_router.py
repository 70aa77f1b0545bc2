"""The router: quality given the examples, load, cost, feedback, pins."""

from gateway.incontext.bandit import GOOD, NONE, PROVEN, WEAK, evidence
from gateway.incontext.router import Router
from gateway.incontext.settings import ModelConfig, RouterWeights

STRONG = ModelConfig("big", "strong", cost_per_1k_tokens=1.0, capacity=4)
SMALL = ModelConfig("tiny", "small", cost_per_1k_tokens=0.05, capacity=4)


def router(loads: dict[str, float] | None = None) -> Router:
    return Router([STRONG, SMALL], RouterWeights(exploration=0.0), lambda m: (loads or {}).get(m.name, 0.0))


def choose(r: Router, level: str) -> str:
    return r.choose("t", "code", [STRONG, SMALL], lambda m: level if m.tier == "small" else NONE).model.name


def test_good_examples_send_a_miss_to_the_small_model():
    r = router()
    assert choose(r, NONE) == "big"
    assert choose(r, WEAK) == "big"
    assert choose(r, GOOD) == "tiny"


def test_examples_with_a_record_of_helping_keep_the_small_model_after_it_failed_on_merely_similar_ones():
    r = router()
    for _ in range(10):
        r.bandit_for("t").reward("code", "tiny", "small", GOOD, 0.0)
    assert choose(r, GOOD) == "big" and choose(r, PROVEN) == "tiny"
    assert [evidence(s) for s in (None, 0.5, 0.8, 1.3)] == [NONE, WEAK, GOOD, PROVEN]


def test_the_choice_moves_to_the_small_model_as_the_strong_one_gets_loaded():
    loads = {"big": 0.0}
    r = router(loads)
    choices = []
    for load in (0.0, 0.2, 0.5, 0.8, 1.0):
        loads["big"] = load
        choices.append(choose(r, WEAK))
    assert choices[0] == "big" and choices[-1] == "tiny"
    assert choices == sorted(choices)  # once it moves ("big" < "tiny"), it stays moved as load grows


def test_requests_in_flight_count_as_load():
    r = router()
    for _ in range(4):
        r.started("big")
    assert choose(r, NONE) == "tiny"
    r.finished("big")
    r.finished("big")
    assert choose(r, NONE) == "big"


def test_feedback_teaches_the_bandit():
    r = router()
    assert choose(r, WEAK) == "big"
    for _ in range(10):
        r.bandit_for("t").reward("code", "tiny", "small", WEAK, 1.0)
    assert choose(r, WEAK) == "tiny"  # the small model proved itself with weak examples in this category
    assert r.choose("t", "chat", [STRONG, SMALL], lambda m: WEAK if m.tier == "small" else NONE).model.name == "big"


def test_one_tenants_feedback_never_moves_another_tenants_choice():
    r = router()
    for _ in range(10):
        r.bandit_for("mallory").reward("code", "big", "strong", NONE, 0.0)
    assert r.choose("mallory", "code", [STRONG, SMALL], lambda m: NONE).model.name == "tiny"
    assert choose(r, NONE) == "big"  # tenant "t" still sees the priors
