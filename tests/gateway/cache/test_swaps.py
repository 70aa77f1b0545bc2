"""Two phrases trading places around the same words is another question; a symmetric link or a moved clause is not."""

import pytest

from gateway.cache.guards import extract_facts, rejection
from gateway.cache.swaps import MAX_WORDS, sequence, swapped, values_traded
from policies.schema import GuardPolicy


def swap(a: str, b: str) -> bool:
    return swapped(sequence(a), sequence(b))


def traded(a: str, b: str) -> bool:
    return values_traded(extract_facts(a).values, extract_facts(b).values)


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
    # "with" links symmetrically, "than" orders: the link orders
    ("Is it cheaper to heat a house with gas than with electricity?",
     "Is it cheaper to heat a house with electricity than with gas?"),
    # a plural traded with a singular
    ("How many cups go into a pint?", "How many pints go into a cup?"),
    ("What percentage of drivers are cyclists?", "What percentage of cyclists are drivers?"),
    # the same verbs in other forms
    ("Can I take ibuprofen after drinking alcohol?", "Can I drink alcohol after taking ibuprofen?"),
    ("Should I pay off my debt before investing?", "Should I invest before paying off my debt?"),
    ("Do I water the plants before fertilizing them?", "Do I fertilize the plants before watering them?"),
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



@pytest.mark.parametrize("a, b", [
    ("Sprinklers are allowed before 10 am - can I water the lawn at 9 am?",
     "Can I water the lawn at 10 am if sprinklers are allowed before 9 am?"),
    ("Is it wrong for a 19 year old to date a 16 year old?", "Is it wrong for a 16 year old to date a 19 year old?"),
    ("My deductible is $500 and the repair costs $2,300: what do I pay?",
     "The repair costs $500 and my deductible is $2,300: what do I pay?"),
    ("If a game starts at 1 pm London time, what time is that in Eastern time?",
     "If a game starts at 1 pm Eastern time, what time is that in London?"),  # "time" dropped after one name
])
def test_numbers_or_names_that_trade_places_across_a_moved_clause_are_a_swap(a, b):
    assert traded(a, b) and traded(b, a)
    assert rejection(extract_facts(a), extract_facts(b), GuardPolicy()) == "order"


@pytest.mark.parametrize("a, b", [
    ("Sprinklers are allowed before 10 am - can I water the lawn at 9 am?",
     "Can I water the lawn at 9 am if sprinklers are allowed before 10 am?"),  # the clause moved, numbers kept
    ("How will the ban on the 500 and 1000 notes affect prices?", "How will the ban on the 1000 and 500 notes affect prices?"),
    ("Is a 3 bedroom with 2 baths enough?", "Are 2 baths and 3 bedrooms enough?"),
    ("Can I go at 2 pm if my pass covers 10 am to 4 pm?", "My pass covers 10am-4pm: can I go at 2 pm?"),
    ("How do I fly to Paris from London?", "How do I fly from London to Paris?"),
    ("Which is better, Chase or Citi?", "Which is better, Citi or Chase?"),
    ("how do i fly from london to Paris?", "How do I fly from Paris to London?"),  # names in another case: not read
])
def test_numbers_and_names_kept_in_their_places_or_listed_are_not(a, b):
    assert not traded(a, b) and not traded(b, a)


def test_many_numbers_placed_differently_are_compared_in_bounded_time():
    # A hostile pair: the same 2,000 numbers, each after another word. No trade is looked for past MAX_TRADED.
    a = " ".join(f"w{i} {i}" for i in range(2000))
    b = " ".join(f"w{i + 1} {i}" for i in range(2000))
    assert not traded(a, b)
