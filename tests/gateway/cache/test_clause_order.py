"""Two wordings that differ only in the order of two whole parts of the question."""

import pytest

from gateway.cache.canonical import canonical
from gateway.cache.clause_order import MAX_WORDS, moved_part, reordered


@pytest.mark.parametrize(("a", "b"), [
    ("If I weigh 70 kg, how much protein should I eat a day?", "How much protein should I eat a day if I weigh 70 kg?"),
    ("To cover 100 square feet 3 inches deep, how many bags of mulch do I need?",
     "How many bags of mulch do I need to cover 100 square feet 3 inches deep?"),
    ("how to fly to Paris from London", "how to fly from London to Paris"),
    # a stated premise becomes a condition: one "if" where the parts meet
    ("My pass covers 10 am to 4 pm - can I go in at 2 pm?", "Can I go in at 2 pm if my pass covers 10 am to 4 pm?"),
    # the parts' last words repeat ("am"): the common ends do not hide the move
    ("Sprinklers are allowed before 10 am. Can I water at 9 am?", "Can I water at 9 am if sprinklers are allowed before 10 am?"),
])
def test_a_part_moved_whole_is_a_move(a, b):
    assert moved_part(a, b) and moved_part(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("How do I fly from London to Paris?", "How do I fly from Paris to London?"),  # two names swapped
    ("When did the Celtics last beat the Lakers?", "When did the Lakers last beat the Celtics?"),
    ("Should I learn Java or Python first?", "Should I learn Python or Java first?"),
    ("Can I only pay with cash?", "Can only I pay with cash?"),  # one word moved: it may qualify something else
    ("If I work 40 hours, what do I earn?", "If I earn 40 hours, what do I work?"),
    ("Is my flight at 9 am?", "Is my flight at 9 am?"),  # the same text: not a move (the canonical rule's)
    ("Can I water at 9 am if it rains?", "Can I water at 9 am when it rains?"),  # a word changed
    ("Then can I pay by card, if I owe $20?", "If I owe $20, can I pay by card then?"),  # only "if" may come or go
])
def test_anything_else_is_not(a, b):
    assert not moved_part(a, b) and not moved_part(b, a)


def test_long_texts_are_not_searched():
    clause = " ".join(f"w{i}" for i in range(MAX_WORDS // 2 + 1))
    other = " ".join(f"v{i}" for i in range(MAX_WORDS // 2 + 1))
    assert not moved_part(f"{clause} {other}", f"{other} {clause}")


@pytest.mark.parametrize(("a", "b"), [
    ("On a Sunday at 11 pm, can I return an item?", "Can I return an item at 11 pm on a Sunday?"),  # two parts
    ("How do I turn autosave on in Word?", "How do I turn on autosave in Word?"),
    ("What are the differences between GitHub and Bitbucket?", "What are the differences between Bitbucket and GitHub?"),
    ("What is the activation energy?", "What is activation energy?"),  # articles aside
])
def test_the_same_words_in_another_order_are_reordered(a, b):
    assert reordered(canonical(a), canonical(b)) and reordered(canonical(b), canonical(a))


@pytest.mark.parametrize(("a", "b"), [
    # a qualifying word moved qualifies something else
    ("Is it possible to not have a mental illness and be insane?", "Is it possible to have a mental illness and not be insane?"),
    ("Can I only pay with cash?", "Can only I pay with cash?"),
    # symbols and other scripts are no words to compare: these differ only there
    ("What does 时尚 mean?", "What does 心中 mean?"),
    ("What does % mean in C++?", "What does ~ mean in C++?"),
    ("How do I convert a PDF to Word?", "How do I convert a Word document to PDF?"),  # another word
])
def test_a_moved_qualifier_a_symbol_or_another_word_is_not(a, b):
    assert not reordered(canonical(a), canonical(b))
