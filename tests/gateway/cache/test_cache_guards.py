"""Guards veto candidates that differ in a detail that changes the answer, and only those."""

import pytest

from gateway.cache.guards import extract_facts, rejection
from policies.schema import GuardPolicy

ALL_ON = GuardPolicy()


def guard(query: str, cached: str, switches: GuardPolicy = ALL_ON) -> str | None:
    return rejection(extract_facts(query), extract_facts(cached), switches)


@pytest.mark.parametrize(("query", "cached", "tripped"), [
    ("How do I lose 10 kg?", "How do I lose 20 kg?", "numbers"),
    ("How do I lose weight in 2 weeks?", "How do I lose weight?", "numbers"),
    ("What is the best phone under 20,000?", "What is the best phone under 15000?", "numbers"),
    ("Who won the world cup in 2014?", "Who won the world cup in 2018?", "numbers"),
    ("What's on TV on Monday?", "What's on TV on Friday?", "dates"),
    ("Is the market open tomorrow?", "Is the market open today?", "dates"),
    ("Why do cats purr?", "Why don't cats purr?", "negation"),
    ("Can I run Python without installing it?", "Can I run Python by installing it?", "negation"),
    ("What is the best IDE for Java?", "What is the best IDE for Python?", "entities"),
    ("How do I learn C++?", "How do I learn C#?", "entities"),
    ("What does os.path.join do?", "What does os.walk do?", "entities"),
    ("How do I fix a KeyError in my_dict?", "How do I fix a KeyError in other_dict?", "entities"),
])
def test_a_differing_fact_is_rejected(query, cached, tripped):
    assert guard(query, cached) == tripped
    assert guard(cached, query) == tripped  # symmetric


@pytest.mark.parametrize(("query", "cached"), [
    ("How do I lose 10 kg?", "How can I lose 10 kilograms?"),
    ("How do I lose ten kg?", "What's the way to lose 10 kg?"),
    ("What is the best phone under 20,000?", "Which phone is best under 20000?"),
    ("How do I learn python?", "What is the best way to learn Python?"),
    ("What Is The Best Way To Learn Programming?", "How should I learn programming?"),
    ("Why is Trump popular?", "Why is Trump's popularity so high?"),
    ("Which one is better, tea or coffee?", "Is tea better than coffee?"),
    ("How may I improve my English?", "How can I improve my English?"),
])
def test_paraphrases_pass(query, cached):
    assert guard(query, cached) is None


def test_each_guard_can_be_switched_off_per_category():
    assert guard("How do I lose 10 kg?", "How do I lose 20 kg?", GuardPolicy(numbers=False)) is None
    assert guard("Why do cats purr?", "Why don't cats purr?", GuardPolicy(negation=False)) is None
    assert guard("Best IDE for Java?", "Best IDE for Python?", GuardPolicy(entities=False)) is None
    assert guard("Open on Monday?", "Open on Friday?", GuardPolicy(dates=False)) is None
