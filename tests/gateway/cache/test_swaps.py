"""Two phrases trading places around the same words is another question; a symmetric link or a moved clause is not."""

import pytest

from gateway.cache.guards import extract_facts, rejection
from gateway.cache.swaps import MAX_WORDS, sequence, swapped
from policies.schema import GuardPolicy


def swap(a: str, b: str) -> bool:
    return swapped(sequence(a), sequence(b))


@pytest.mark.parametrize("a, b", [
    ("Does Costco price match Walmart?", "Does Walmart price match Costco?"),
    ("My rabbit keeps biting my hamster, what should I do?", "My hamster keeps biting my rabbit, what should I do?"),
    ("What is 180 degrees Celsius in Fahrenheit?", "What is 180 degrees Fahrenheit in Celsius?"),
    ("How many tablespoons is 3 ounces of butter?", "How many ounces is 3 tablespoons of butter?"),
    ("How many pounds do I get for 200 Swiss francs?", "How many Swiss francs do I get for 200 pounds?"),
    ("Can I use honey in place of sugar in tea?", "Can I use sugar in place of honey in tea?"),
    ("If I leave Denver at 9 am, when do I reach Dallas?", "If I leave Dallas at 9 am, when do I reach Denver?"),
    # an "and" between two clauses is no symmetric link between the places
    ("If my train leaves Leeds at 8 am and takes 3 hours, when do I get to Bath?",
     "If my train leaves Bath at 8 am and takes 3 hours, when do I get to Leeds?"),
])
def test_phrases_that_trade_places_are_a_swap(a, b):
    assert swap(a, b) and swap(b, a)
    assert rejection(extract_facts(a), extract_facts(b), GuardPolicy()) == "order"


@pytest.mark.parametrize("a, b", [
    ("Which is healthier, rice or pasta?", "Which is healthier, pasta or rice?"),
    ("What is the difference between a debit card and a credit card?",
     "What is the difference between a credit card and a debit card?"),
    ("On Monday, what time does the pharmacy open?", "What time does the pharmacy open on Monday?"),
    ("How do I reset my router?", "How do I reset my router?"),
    ("How do I reset my router?", "how can I reset my router"),
    ("Compare Netflix vs Hulu for families", "Compare Hulu vs Netflix for families"),
])
def test_symmetric_links_moved_clauses_and_rewordings_are_not(a, b):
    assert not swap(a, b)


def test_a_long_text_is_left_to_the_other_guards():
    long = " ".join(f"w{i}" for i in range(MAX_WORDS)) + " cat chases dog"
    assert sequence(long) == ()
    assert not swap(long, long.replace("cat chases dog", "dog chases cat"))


def test_the_order_switch_turns_it_off():
    a, b = "Does Costco price match Walmart?", "Does Walmart price match Costco?"
    assert rejection(extract_facts(a), extract_facts(b), GuardPolicy(order=False)) is None

