"""Canonical form, part two: question and request frames, synonyms, spelling and number words read as one."""

from pathlib import Path

import pytest

from gateway.cache.canonical import canonical
from gateway.cache.derive_canonical_synonyms import DEFAULT_WORDNET, main
from gateway.cache.word_forms import SYNONYMS_PATH, synonyms


@pytest.mark.parametrize("asked", [
    "How can I change my PIN at an ATM?",
    "What's the way to change my PIN at an ATM?",
    "Is there a way to change my PIN at an ATM?",
    "Tell me how to change my PIN at an ATM",
    "What are the steps to change my PIN at an ATM?",
    "I want to know how to change my PIN at an ATM",
    "What do I need to do to change my PIN at an ATM?",
    "hey, how should I change my PIN at an ATM?",
])
def test_procedure_frames_read_as_how_do_i(asked):
    assert canonical(asked) == canonical("How do I change my PIN at an ATM?") == "how do i change my pin at an atm?"


@pytest.mark.parametrize(("asked", "form"), [
    ("Can you explain what an index fund is?", "what an index fund is?"),
    ("Could you please give me three ideas for a quick dinner?", "give me 3 ideas for a quick dinner?"),
    ("Can you list the documents I need for a passport?", "list the documents i need for a passport?"),
    ("I would like some help to compare two phone plans", "compare 2 phone plans"),
    ("What documents do I need for a passport, please?", "what documents do i need for a passport?"),
])
def test_a_polite_request_keeps_only_what_it_asks(asked, form):
    assert canonical(asked) == form


@pytest.mark.parametrize("asked", [
    "Can you freeze cooked rice?",  # "you" is anyone: a question about rice, not a request
    "How do you feel about remote work?",  # an opinion asked of the assistant
    "How do they calculate my credit score?",  # someone else's procedure
])
def test_frames_that_ask_something_else_stay(asked):
    assert canonical(asked).startswith(asked.lower().split()[0] + " " + asked.lower().split()[1])


@pytest.mark.parametrize(("british", "american"), [
    ("What colour is the new iPhone?", "What color is the new iPhone?"),
    ("How do I organise my inbox?", "How do I organize my inbox?"),
    ("Where is the nearest recycling centre?", "Where is the nearest recycling center?"),
    ("Do I need a licence to fish?", "Do I need a license to fish?"),
])
def test_british_spelling_reads_as_american(british, american):
    assert canonical(british) == canonical(american)


def test_synonyms_and_number_words_share_a_form():
    assert canonical("Does my automobile insurance cover a rental?") == canonical("Does my car insurance cover a rental?")
    assert canonical("Who can assist me with my taxes?") == canonical("Who can help me with my taxes?")
    assert canonical("Is a five pound chicken enough for six people?") == "is a 5 pound chicken enough for 6 people?"


@pytest.mark.parametrize(("one", "other"), [
    ("How do I buy shares?", "How do I sell shares?"),  # antonyms keep their own form
    ("Can I return it after 30 days?", "Can I return it within 30 days?"),  # scope words are never merged
    ("Is the store open on the first Monday?", "Is the store open on the second Monday?"),  # ordinals are facts
    ("Is the flour gluten free?", "Is the hour gluten free?"),  # short words are not respelled
    ("How do I close the window?", "How do I near the window?"),  # "close" is a verb first: never "near"
])
def test_words_a_guard_reads_keep_their_form(one, other):
    assert canonical(one) != canonical(other)


def test_the_synonym_list_never_maps_a_word_to_itself_or_chains():
    table = synonyms()
    assert table and all(word != rep for word, rep in table.items())
    assert not set(table.values()) & set(table)  # a representative is never itself rewritten


@pytest.mark.skipif(not (DEFAULT_WORDNET / "index.noun").exists(), reason="WordNet is not installed (wordnet-base)")
def test_the_shipped_synonym_list_is_what_the_script_derives_from_wordnet(tmp_path: Path):
    main(["--out", str(tmp_path / "synonyms.txt")])
    assert (tmp_path / "synonyms.txt").read_text() == SYNONYMS_PATH.read_text()
