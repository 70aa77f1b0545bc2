"""Minimal pairs: the same question with one slot filled differently is another question; the same question
reworded is not. Constructed cases in the tune domains and general English (never suite rows): each trap kind
is rejected by the guards alone, and each paraphrase passes them."""

from pathlib import Path

import pytest

from gateway.cache.derive_antonyms import DEFAULT_WORDNET
from gateway.cache.derive_synonyms import main
from gateway.cache.guards import extract_facts, rejection
from gateway.cache.substitutions import SYNONYMS_PATH, related_words, slots, substitution
from gateway.cache.text import words
from policies.schema import GuardPolicy

ALL_ON = GuardPolicy()


def guard(query: str, cached: str, switches: GuardPolicy = ALL_ON) -> str | None:
    return rejection(extract_facts(query), extract_facts(cached), switches)


TRAPS = {
    "direction": [
        ("How do I move money into my savings account?", "How do I move money out of my savings account?"),
        (
            "What's the fee for moving funds savings -> checking?",
            "What's the fee for moving funds checking -> savings?",
        ),
        ("What is the drive time Denver -> Aspen in winter?", "What is the drive time Aspen -> Denver in winter?"),
        ("How long is the flight to Tokyo from Seoul?", "How long is the flight to Seoul from Tokyo?"),
        ("How do I import contacts into Outlook?", "How do I export contacts out of Outlook?"),
        ("Is an iphone more secure than an android phone?", "Is an android phone more secure than an iphone?"),
        ("How many cups go into a quart?", "How many quarts go into a cup?"),
    ],
    "role": [
        ("Does the landlord have to give the tenant notice?", "Does the tenant have to give the landlord notice?"),
        ("How much do I owe my sister?", "How much does my sister owe me?"),
        ("What does the buyer pay the seller at closing?", "What does the seller pay the buyer at closing?"),
        ("Does the insurer pay the hospital directly?", "Does the hospital pay the insurer directly?"),
        ("Can my dog give my cat fleas?", "Can my cat give my dog fleas?"),
        ("Do employers pay employees for jury duty?", "Do employees pay employers for jury duty?"),
    ],
    "entity": [
        ("Can I pay with visa at Costco?", "Can I pay with mastercard at Costco?"),
        ("Does ikea deliver on sundays?", "Does wayfair deliver on sundays?"),
        ("how do i clear the cache in chrome", "how do i clear the cache in firefox"),
        ("how do I back up my iphone", "how do I back up my android"),
        ("Can I use paypal on ebay?", "Can I use venmo on ebay?"),
        ("Does verizon have free international roaming?", "Does comcast have free international roaming?"),
        ("Do I need a visa for japan?", "Do I need a visa for china?"),
        ("How far is the airport from downtown seattle?", "How far is the airport from downtown portland?"),
        ("Is chocolate toxic to dogs?", "Is chocolate toxic to cats?"),
        ("Can rabbits eat grapes?", "Can hamsters eat grapes?"),
        ("Can I substitute butter for oil in brownies?", "Can I substitute butter for oil in cookies?"),
    ],
    "quantity": [
        ("How long do I boil two eggs?", "How long do I boil three eggs?"),
        ("How much flour for a dozen cookies?", "How much flour for two dozen cookies?"),
        ("What do I get if I refer a couple of friends?", "What do I get if I refer a dozen friends?"),
        ("Can I halve the recipe for a 9-inch pan?", "Can I double the recipe for a 9-inch pan?"),
        ("Is 1/2 teaspoon of salt enough for bread?", "Is 1/4 teaspoon of salt enough for bread?"),
        ("Can I split the bill three ways?", "Can I split the bill four ways?"),
        # one amount class traded for another (substitutions._AMOUNT_CLASSES)
        ("Can I get a partial refund on my flight?", "Can I get a full refund on my flight?"),
        ("How far can I drive on a quarter tank of gas?", "How far can I drive on a full tank of gas?"),
        ("How much is a single room at the Hilton?", "How much is a double room at the Hilton?"),
        ("How much is a family pass to the zoo?", "How much is an individual pass to the zoo?"),
    ],
    "scope": [
        ("Is the fee charged per transaction?", "Is the fee charged per month?"),
        ("What is the total fee for a wire transfer?", "What is the fee per wire transfer?"),
        ("Do both account holders need to sign?", "Does either account holder need to sign?"),
        ("Are overdrafts charged on weekends too?", "Are overdrafts charged only on weekends?"),
        ("Can I return sale items?", "Can I return only sale items?"),
        ("Is the warranty valid until the end of the year?", "Is the warranty valid since the end of the year?"),
        ("Can I return everything except swimwear?", "Can I return everything including swimwear?"),
        ("Is every family member covered?", "Is only one family member covered?"),
        ("How do I select all rows except the header in Excel?", "How do I select only the header row in Excel?"),
        # a hyphenated compound is one slot ("regular-season" traded for "playoff")
        ("How many runs did he score in regular-season games?", "How many runs did he score in playoff series?"),
        # a word and the same word with a prefix: WordNet files "preseason" under "season", but it is another time
        ("When does the NBA preseason start?", "When does the NBA season start?"),
    ],
}

PARAPHRASES = [
    ("Within how many days can I return an item?", "How many days do I have to return an item?"),
    ("How long do I bake cookies at 350F?", "How long do I bake cookies at 350 degrees Fahrenheit?"),
    ("How long do I boil 2 eggs?", "How long do I boil two eggs?"),
    ("Can I bring a 23 kg suitcase?", "Can I bring a 23-kilogram suitcase?"),
    ("How do I transfer money from savings to checking?", "From savings to checking, how do I transfer money?"),
    ("How do I cancel my Netflix subscription?", "How can I cancel my subscription to Netflix?"),
    ("How much is a checked bag on Delta?", "What does Delta charge for a checked bag?"),
    ("How many days until my card arrives?", "How long until my card arrives?"),
    ("Which plan includes hotspot data?", "What plan comes with hotspot data?"),
    ("How do I enable dark mode in chrome?", "How do I turn on dark mode in Chrome?"),
    ("What is the fastest way to the airport from downtown?", "What is the quickest way to the airport from downtown?"),
    ("Is there a fee for each transaction?", "Is the fee charged per transaction?"),
    ("How do I cancel my gym membership?", "How do I cancel my gym memebrship?"),  # a slip of the keyboard
    ("Can I return an item after 30 days?", "Is it possible to return something after 30 days?"),
    ("How much does Delta charge for a checked bag?", "How much does Delta charge for a checked suitcase?"),
    ("When was the Eiffel Tower built?", "When was the Eiffel Tower made?"),
    ("How do I find out my account number?", "How do I check my account number?"),
    # an amount word on one side only is no trade ("a whole chicken" is the chicken)
    ("How long do I roast a 4 pound whole chicken?", "How long do I roast a 4 pound chicken?"),
    # a compound and its parts, hyphenated or not
    ("How do I stop self-harm?", "How do I stop self harm?"),
    ("Are flu-like symptoms a sign of pregnancy?", "Can flu like symptoms be a sign of pregnancy?"),
    ("What is the full price of the Basic plan?", "What is the price of the Basic plan?"),
]


@pytest.mark.parametrize(
    ("query", "cached"), [pair for pairs in TRAPS.values() for pair in pairs], ids=lambda text: text[:40]
)
def test_each_trap_kind_is_rejected_both_ways(query: str, cached: str) -> None:
    assert guard(query, cached) is not None
    assert guard(cached, query) is not None


@pytest.mark.parametrize(("query", "cached"), PARAPHRASES, ids=lambda text: text[:40])
def test_paraphrases_pass_the_guards(query: str, cached: str) -> None:
    assert guard(query, cached) is None
    assert guard(cached, query) is None


def test_a_slot_names_the_guard_that_owns_it() -> None:
    assert guard("how do i clear the cache in chrome", "how do i clear the cache in firefox") == "entities"
    assert guard("Can I return sale items?", "Can I return only sale items?") == "scope"
    assert guard("How do I move money into my savings?", "How do I move money out of my savings?") == "order"


def test_the_guard_switch_turns_a_substitution_off() -> None:
    off = GuardPolicy(entities=False)
    assert guard("Is chocolate toxic to dogs?", "Is chocolate toxic to cats?", off) is None


def test_a_reworded_verb_or_two_changed_slots_are_left_to_the_verifier() -> None:
    # Trading a verb ("enable" / "turn on") is no other thing; two slots changed is a rewording, not a minimal pair.
    assert substitution(slots(words("enable dark mode in chrome")), slots(words("turn on dark mode in chrome"))) is None
    assert substitution(slots(words("cheap hotel in Rome")), slots(words("budget lodging near Rome"))) is None


def test_siblings_differ_and_a_word_and_its_parent_do_not() -> None:
    lexicon = related_words()
    assert not lexicon.lines("salmon") & lexicon.lines("trout")
    assert lexicon.lines("fee") & lexicon.lines("charge")  # its parent, "fixed charge", by its head
    assert lexicon.lines("made") & lexicon.lines("build")  # an irregular form finds its lemma
    assert lexicon.noun_like("firefox") and lexicon.noun_like("dogs") and not lexicon.noun_like("includes")


def test_long_texts_are_not_compared() -> None:
    long = " ".join(f"zq{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(60))  # 60 content words
    assert substitution(slots(words(long + " chrome")), slots(words(long + " firefox"))) is None


@pytest.mark.skipif(not (DEFAULT_WORDNET / "data.adj").exists(), reason="WordNet is not installed (wordnet-base)")
def test_the_shipped_groups_are_what_the_script_derives_from_wordnet(tmp_path: Path) -> None:
    main(["--out", str(tmp_path / "synonyms.txt")])
    assert (tmp_path / "synonyms.txt").read_text() == SYNONYMS_PATH.read_text()


def test_a_huge_word_in_the_slot_is_compared_in_linear_time() -> None:
    huge = "a" * 200_000
    assert substitution(slots(words(f"clear the cache in {huge}b")), slots(words(f"clear the cache in c{huge}")))
