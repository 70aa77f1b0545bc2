"""The canonical form: register, contractions and typos go; names, numbers and content stay."""

from pathlib import Path

import pytest

from gateway.cache.canonical import MAX_CHARS, WORDS_PATH, canonical, corrected, without_greetings
from gateway.cache.derive_words import DEFAULT_WORDNET, main


@pytest.mark.parametrize(("asked", "form"), [
    ("hey there - how many euros will I get for 500 US dollars?", "how many euros will i get for 500 us dollars?"),
    ("ok so how do I close my account?", "how do i close my account?"),
    ("Quick question: does the gym open on Sundays? Thanks!", "does the gym open on sundays?"),
    ("I was wondering, can I return opened headphones?", "can i return opened headphones?"),
    ("Could you please tell me how to reset my router?", "how to reset my router?"),
    ("Good morning! What's the deadline for the form?", "what is the deadline for the form?"),
    ("Sorry if this is basic, but how do I undo a commit?", "how do i undo a commit?"),
    ("sorry I missed the call, when is the next one?", "sorry i missed the call, when is the next one?"),
    ("evening! how do I cancel my gym membership?", "how do i cancel my gym membership?"),
    ("hi again, can I bring a guest?", "can i bring a guest?"),
    ("hey, got a sec? how much is the basic plan?", "how much is the basic plan?"),
    ("Can I ask you something? Is it safe to eat raw eggs?", "is it safe to eat raw eggs?"),
    ("thanks in advance - how much grass seed do I need?", "how much grass seed do i need?"),
    ("right, so can I bring a guest?", "can i bring a guest?"),
    ("But what time does it open?", "what time does it open?"),
    ("sorry to bother you but if I have a $500 deductible, how much do I pay?",
     "if i have a $500 deductible, how much do i pay?"),
    # the same words as content stay
    ("Can I ask my landlord to fix the boiler?", "can i ask my landlord to fix the boiler?"),
    ("Evening classes: how do I sign up?", "evening classes: how do i sign up?"),
])
def test_register_and_contractions_go(asked, form):
    assert canonical(asked) == form


def test_a_question_and_its_casual_wording_share_a_form():
    assert canonical("hi! what's the cheapest plan?") == canonical("What is the cheapest plan?")


@pytest.mark.parametrize(("typed", "meant"), [
    ("how do i frezee my debit card", "how do i freeze my debit card?"),  # two letters swapped
    ("is there a fee to transfer from my savings acount", "is there a fee to transfer from my savings account?"),
    ("when will my deibt card arrive", "when will my debit card arrive?"),  # a swap beats the commoner "debt"
    ("how much inetrest do I earn", "how much interest do i earn?"),
    # the slip in an inflected word's base
    ("how many caolries does a run burn", "how many calories does a run burn?"),
    ("what can I plant next to ccumbers", "what can i plant next to cucumbers?"),
    # a slip that reads as a known word with an ending English would not put there: "pun" + "d", "wta" + "er"
    ("how many calories does a 150 pund person burn", "how many calories does a 150 pound person burn?"),
    ("what shuld i plant next to tomatoes", "what should i plant next to tomatoes?"),
    ("can i wtaer the lawn at 9 am", "can i water the lawn at 9 am?"),
])
def test_a_word_one_slip_from_a_known_word_is_corrected(typed, meant):
    assert canonical(typed) == meant


@pytest.mark.parametrize("word", [
    "baked", "making", "tried", "happily", "stopped", "tries", "boxes", "usable", "later", "buyer", "opting", "mowing",
])
def test_regular_forms_of_known_words_are_left_alone(word):
    assert canonical(f"how often is {word} ok") == f"how often is {word} ok?"


@pytest.mark.parametrize("asked", [
    "Does Verizon or Vreizon sell the phone?",  # capitalised: a name is never rewritten
    "What does error e4011x mean?",  # a token with digits
    "Why shouldn't I wire money on Friday?",  # a contraction is expanded, never "corrected"
])
def test_names_numbers_and_contractions_are_not_corrected(asked):
    form = canonical(asked)
    assert ("vreizon" in form) == ("Vreizon" in asked)
    assert ("e4011x" in form) == ("e4011x" in asked)
    assert "shouldn" not in form or "should not" in form


def test_corrected_keeps_case_register_and_punctuation():
    # What the guards read: "8 mniutes" is 8 minutes to the units guard, "Vreizon" stays a name.
    assert corrected("Hey - I run 8 mniutes per mile at Vreizon, ok?") == "Hey - I run 8 minutes per mile at Vreizon, ok?"
    assert canonical("Hey - I run 8 mniutes per mile?") == canonical(corrected("Hey - I run 8 mniutes per mile?"))


def test_negation_survives():
    assert canonical("Why can't I log in?") == "why cannot i log in?"
    assert canonical("hey, don't I need a visa?") == "do not i need a visa?"


def test_greetings_and_apologies_go_before_dependence_reads_a_question_but_discourse_stays():
    # gateway/cache/dependence.py reads past these, never past "and", "so" or a politeness frame's verb.
    assert without_greetings("Hey there - can I ask you something? How do I reset my router?") == (
        "how do i reset my router"
    )
    assert without_greetings("sorry to bother you, but how do I cancel?") == "how do i cancel"
    assert without_greetings("ok, and in Python?") == "ok, and in python"
    assert without_greetings("Can you explain that?") == "can you explain that"
    assert without_greetings("hello!") == "hello!"


def test_a_bare_greeting_stays_itself():
    assert canonical("hi") == "hi"
    assert canonical("Hello there!") == "hello there!"


def test_a_question_ends_in_a_question_mark_however_typed():
    assert canonical("how do i cancel my plan") == canonical("How do I cancel my plan?") == "how do i cancel my plan?"
    assert canonical("I just opened an account at Chase.") == "i just opened an account at chase."


def test_a_long_document_is_left_as_written():
    document = "plese " * (MAX_CHARS // 6 + 1)
    assert canonical(document) == document


@pytest.mark.skipif(not (DEFAULT_WORDNET / "index.noun").exists(), reason="WordNet is not installed (wordnet-base)")
def test_the_shipped_word_list_is_what_the_script_derives_from_wordnet(tmp_path: Path):
    main(["--out", str(tmp_path / "words.txt")])
    assert (tmp_path / "words.txt").read_text() == WORDS_PATH.read_text()
