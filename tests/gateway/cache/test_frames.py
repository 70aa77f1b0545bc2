"""Question frames that ask the same are said one way; frames that often ask something else are kept."""

import pytest

from gateway.cache.canonical import canonical
from gateway.cache.frames import plainest


@pytest.mark.parametrize(("a", "b"), [
    ("How can I reverse a list in Python?", "How do I reverse a list in Python?"),
    ("how to reverse a list in python", "How do I reverse a list in Python?"),
    ("What are the steps to file an insurance claim?", "How do I file an insurance claim?"),
    ("What is the procedure for cancelling my gym membership?", "How do I cancel my gym membership?"),
    ("Am I allowed to park on the street overnight?", "Can I park on the street overnight?"),
    ("Is my manager allowed to read my work emails?", "Can my manager read my work emails?"),
    ("Is there a way to recover deleted photos?", "Can I recover deleted photos?"),
    ("Is it possible to recover deleted photos?", "Can I recover deleted photos?"),
    ("What is the price of a season ticket at Arsenal?", "How much does a season ticket at Arsenal cost?"),
])
def test_frames_that_ask_the_same_read_the_same(a, b):
    assert plainest(canonical(a)) == plainest(canonical(b))


@pytest.mark.parametrize(("a", "b"), [
    ("How do you become a dentist?", "How do I become a dentist?"),  # QQP's labels part these often
    ("Could I be pregnant?", "Can I be pregnant?"),
    ("What is the best way to learn Python?", "How do I learn Python?"),
    ("What should I do to get closer to my crush?", "How do I get closer to my crush?"),
    ("How can I reverse a list in Python?", "How can I sort a list in Python?"),  # the frame goes, the rest stays
])
def test_other_frames_and_other_questions_stay_apart(a, b):
    assert plainest(canonical(a)) != plainest(canonical(b))
