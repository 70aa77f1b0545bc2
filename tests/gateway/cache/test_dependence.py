"""The dependence classifier: which last questions need their conversation to be understood.

A question called self-contained is matched whatever came before it, so every dependent form a
user writes must be caught; a self-contained one called dependent only costs a hit.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.cache.dependence import dependence

DEPENDENT = {
    "reply": ["yes please", "Sure, go ahead", "no thanks", "Yes, do it.", "ok", "please"],
    "selection": ["the second one", "option 2", "The cheaper one", "I'll take the first one", "the basic plan",
                  "this one",
                  "Which one should I buy?"],
    "ellipsis": ["and in Python?", "And how about in Python?", "what about Paris?", "For two people?",
                 "Same for Spain", "anything else?", "Tell me more", "How so?", "in Rust", "but cheaper",
                 "Can I do that in Excel too", "not anymore?", "What's the password again?", "anyone else?"],
    "anaphora": ["how much is it?", "is that safe?", "how do I get there?", "what do they eat?",
                 "rewrite it more formally",
                 "Is it worth it?", "What are its side effects?", "Does that include tax?", "Can I return it?",
                 "How much does it cost?", "Does it work on Mac?", "Why is that?", "Can you explain that?",
                 "How long do those last?", "Where is this?",
                 "Can I get the other one in blue?", "Can I pay my phone bill with it?",
                 "Is it safe, and when will it arrive?",
                 # a greeting is read past; "them", "it" and a thing's "their" point out of the question
                 "hi there! what do they eat?", "Can I pay my phone bill with them?",
                 "Please add a column with their websites", "Can you explain that like I'm 10?",
                 "remove the header from that file"],
    "comparison": ["is there a cheaper option?", "Which is better?", "anything faster?"],
    "generic": ["what's the price?", "why?", "any examples?", "What's the difference?", "How much?", "?"],
    "operation": ["translate to French", "summarize", "Shorter please", "Translate into German please",
                  "Can you explain?"],
}

SELF_CONTAINED = [
    "How do I reverse a list in Python?", "What is the capital of France?",
    "Is it safe to drink tap water in Mexico?", "How long does it take to boil an egg?",
    "Will it rain tomorrow in London?", "What time is it in Tokyo?", "It's raining in Paris, is the Louvre open?",
    "Is there a pharmacy open near me?", "Are there any direct flights from London to Tokyo?",
    "What should I do this weekend in Rome?", "Who is Barack Obama?", "What is photosynthesis?",
    "Which foods are high in iron?", "Is it true that coffee stunts growth?", "foods that lower cholesterol",
    "What are the side effects of ibuprofen?", "Can I get a refund on a plane ticket?", "Tell me a joke",
    "Do I need a visa to visit Japan?", "What is the chemical symbol for gold?", "What is 1 plus 1?",
    "How many people live in Canada?", "What's the weather like in Paris?", "How do I reset my router?",
    "Which is healthier, rice or pasta?", "How much does it cost to renew a US passport?",
    "In what year did World War II end?", "What does the word serendipity mean?",
    "Translate 'good morning' into Spanish", "Summarize the plot of Hamlet",
    "Is Python better than Java for beginners?", "Sure, what is the capital of Peru?",
    # a pronoun pointing back to the question's own opening clause; "instead of" names what is replaced
    "If I plant tulip bulbs in March, will they flower this year?",
    "How soon can I drive my new car if I register it online?",
    "My cat keeps scratching the sofa. How do I stop her?",
    "Can I use honey instead of sugar in bread?",
    # greetings and apologies read past; a pronoun bound inside the question; idioms with "it", "that", "same"
    "hello there, how many grams is 2 cups of flour?", "sorry to bother you, but how do I reset my router?",
    "question for you: if I start a recipe at 8 am, when will it be ready?",
    "At what age should a puppy get its first rabies vaccine?", "Can someone else use my Netflix account?",
    "Does my friend's insurance cover my laptop stolen from their car?",
    "Is there a fee when someone transfers money from their savings into my account?",
    "How much is it to call India from the US?", "How long does it typically take a beginner to train for a 5K?",
    "Can I get a refund if I can't make it to the concert?",
    "How do I change the address on an order that has already shipped?",
    "Does a domestic wire sent at 6 pm arrive the same day?", "Why doesn't my phone charge anymore?",
]


@pytest.mark.parametrize(("cue", "question"), [(cue, q) for cue, qs in DEPENDENT.items() for q in qs])
def test_a_question_that_needs_its_conversation_is_dependent(cue, question):
    found = dependence(question)
    assert found.dependent, question
    assert found.cue == cue, (question, found.cue)


@pytest.mark.parametrize("question", SELF_CONTAINED)
def test_a_question_that_stands_alone_is_self_contained(question):
    found = dependence(question)
    assert not found.dependent, (question, found.cue)


def test_the_dummy_it_and_existential_there_do_not_count_but_a_pointing_it_does():
    assert not dependence("Is it possible to travel to Japan without a visa?").dependent
    assert dependence("Is it possible to travel there without a visa?").cue == "anaphora"
    assert dependence("Is it possible to return it without a receipt?").cue == "anaphora"
    assert not dependence("Is there a way to undo a git commit?").dependent
    assert dependence("What is the weather like there?").cue == "anaphora"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80) | st.lists(st.sampled_from(
    ["it", "one", "the", "other", "that", "there", "is", "yes", "and", "'s", "?", "this", "week", "to", "cheaper",
     "translate", "my", "plan", "I'll", "take"]), max_size=8).map(" ".join))
def test_any_text_gets_an_answer(question):
    # Every request's last message goes through the classifier: it must never raise.
    assert isinstance(dependence(question).dependent, bool)
