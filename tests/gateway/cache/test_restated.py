"""One question restated: the same content words and quantities in other function words and order."""

import pytest

from gateway.cache.restated import restated
from gateway.cache.verifier_features import view


@pytest.mark.parametrize(("a", "b"), [
    ("At 425°F, how long should a 4 pound whole chicken roast?", "How long should I roast a 4 pound whole chicken at 425°F?"),
    ("In euros, how much does a season ticket at Borussia Dortmund cost?",
     "How much does a season ticket at Borussia Dortmund cost in euros?"),
    ("At 4% APY, how much interest does $5,000 earn in a savings account in one year?",
     "How much interest will I earn on $5,000 in a savings account at 4% APY over one year?"),
    ("What time in Pacific time is a game that starts at 7:30 pm Eastern time?",
     "If a game starts at 7:30 pm Eastern time, what time is that in Pacific time?"),
    # a quantity written another way: the facts compare it, not the words
    ("How long do I bake cookies at 350F?", "How long do I bake cookies at 350 degrees Fahrenheit?"),
    ("Which is the best phone to buy under 20000?", "Which is the best phone I can buy under 20k?"),
    ("How long will a 6-hour audiobook take at 1.25x speed?", "How long does a 360-minute audiobook take at 1.25x speed?"),
    ("What are the five best movies of all time?", "What are the 5 best movies of all time?"),
])
def test_the_same_words_and_quantities_in_other_words_are_one_question(a, b):
    assert restated(view(a), view(b)) and restated(view(b), view(a))


@pytest.mark.parametrize(("a", "b"), [
    # no quantity pinned: names alone leave too much to the other words
    ("How does Quora make money?", "How do you make money with Quora?"),
    # another number, another content word, another question word
    ("How long should I roast a 4 pound chicken at 425°F?", "How long should I roast a 5 pound chicken at 425°F?"),
    ("How long should I roast a 4 pound chicken at 425°F?", "How long should I bake a 4 pound chicken at 425°F?"),
    ("Why should I roast a 4 pound chicken at 425°F?", "How should I roast a 4 pound chicken at 425°F?"),
    # a qualifying word before another content word
    ("Can I only return 2 items without a receipt?", "Can I return 2 items only without a receipt?"),
    # a model name is a word, though the numbers guard reads only its number
    ("How long does the battery on my iPhone 5S last?", "How long does an iPhone 5 battery last?"),
    # too few content words to say what is asked
    ("Is 7 pm ok?", "7 pm, is it ok?"),
])
def test_anything_else_is_left_to_the_verifier(a, b):
    assert not restated(view(a), view(b)) and not restated(view(b), view(a))
