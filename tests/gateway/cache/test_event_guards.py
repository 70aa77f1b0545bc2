"""The two ends of one event ("lands"/"leaves", "send"/"receive") and "un-" reversals are different questions;
a scope word in a yes/no question scopes; a bound ("at least", "at most") is read as one phrase; a
possessive swap is a swap. Constructed cases, not suite rows."""

import pytest

from gateway.cache.guards import extract_facts, rejection
from gateway.cache.oppositions import hyphen_negated, prefixed_words, reversed_words
from policies.schema import GuardPolicy

ALL_ON = GuardPolicy()


def guard(query: str, cached: str, switches: GuardPolicy = ALL_ON) -> str | None:
    return rejection(extract_facts(query), extract_facts(cached), switches)


@pytest.mark.parametrize(("query", "cached", "tripped"), [
    ("Which gate does the flight that lands at 7 pm use?", "Which gate does the flight that leaves at 7 pm use?",
     "antonyms"),
    ("What time does the bus depart from the station?", "What time does the bus arrive at the station?", "antonyms"),
    ("When does the ferry arrive?", "When does the ferry depart?", "antonyms"),
    ("How long does it take to send money with Zelle?", "How long does it take to receive money with Zelle?",
     "antonyms"),
    ("Why is my sent mail not syncing?", "Why is my received mail not syncing?", "antonyms"),
    ("Why is it slow to upload photos to Google Drive?", "Why is it slow to download photos from Google Drive?",
     "antonyms"),
    ("What is the daily limit to deposit cash at an ATM?", "What is the daily limit to withdraw cash at an ATM?",
     "antonyms"),
    ("What time does the meeting start?", "What time does the meeting end?", "antonyms"),
    ("Can I downgrade my plan in the middle of a billing cycle?",
     "Can I upgrade my plan in the middle of a billing cycle?", "antonyms"),
    ("How do I encrypt a zip file on a Mac?", "How do I decrypt a zip file on a Mac?", "antonyms"),
    ("What taxes do I owe when I sell a car?", "What taxes do I owe when I purchase a car?", "antonyms"),
    ("Does the landlord pay for a broken boiler?", "Does the tenant pay for a broken boiler?", "antonyms"),
    ("Can a teacher see my grades online?", "Can a student see my grades online?", "antonyms"),
    ("How do I freeze my debit card in the app?", "How do I unfreeze my debit card in the app?", "antonyms"),
    ("How do I install Zoom on Ubuntu?", "How do I uninstall Zoom on Ubuntu?", "antonyms"),
    ("How do I mute a group chat on WhatsApp?", "How do I unmute a group chat on WhatsApp?", "antonyms"),
    ("Are all items eligible for free returns?", "Are some items eligible for free returns?", "scope"),
    ("Is there a discount on all items?", "Is there a discount on any item?", "scope"),
    ("Do I need to pay at least the minimum payment?", "Do I need to pay at most the minimum payment?", "scope"),
    ("Is the discount for 3 or more nights?", "Is the discount for 3 or fewer nights?", "antonyms"),
    ("Does the bank need the customer's consent?", "Does the customer need the bank's consent?", "order"),
    # Opposite prefixes, "offline" and "postpaid" in no word list the gateway has.
    ("Can I play Minecraft offline on my tablet?", "Can I play Minecraft online on my tablet?", "antonyms"),
    ("Does hotspot data roll over on a Verizon prepaid plan?", "Does hotspot data roll over on Verizon postpaid?",
     "antonyms"),
    ("Which herbs grow best indoors in winter?", "Which herbs grow best outdoors in winter?", "antonyms"),
    ("What happens if my employer overpaid me last month?", "What happens if my employer underpaid me last month?",
     "antonyms"),
    # A word and the same word negated by a prefix: "off-peak", "non-refundable", "non smoking".
    ("Does my rail pass cover peak hours?", "Does my rail pass cover off-peak hours?", "antonyms"),
    ("How much is in-state tuition at UCLA?", "How much is out-of-state tuition at UCLA?", "antonyms"),
    ("Is the booking fee refundable?", "Is the booking fee non-refundable?", "antonyms"),
    ("How much is a smoking room at the Hilton?", "How much is a non smoking room at the Hilton?", "antonyms"),
    ("Do residents pay tax on foreign income?", "Do non-residents pay tax on foreign income?", "antonyms"),
])
def test_the_other_end_of_an_event_or_a_reversal_is_rejected(query, cached, tripped):
    assert guard(query, cached) == tripped
    assert guard(cached, query) == tripped


@pytest.mark.parametrize(("query", "cached"), [
    ("When does my flight land?", "What time does my flight arrive?"),  # one end, two words
    ("When does the train leave?", "What time does the train depart?"),
    ("How do I unlock my phone?", "what's the way to unlock my phone"),
    ("Does the lock unlock automatically when I arrive home?", "Will the smart lock unlock when I arrive home?"),
    ("What's the sales tax when I buy a used car?", "How much sales tax do I pay on a used car I buy?"),
    ("What are some good books about Rome?", "Which books about Rome are good?"),  # "some" asks for examples
    ("How does a trade union work?", "How do trade unions work?"),  # "union" reverses nothing
    ("Is there any fee to cancel?", "Is there a fee to cancel?"),  # "any" without "all" scopes nothing
    ("Can my landlord keep my deposit as a tenant?", "As a tenant, can the landlord keep my deposit?"),
    ("Do I need to pay at least the minimum?", "Must I pay at least the minimum?"),
    ("Is the discount for 3 nights or more?", "Does the discount need 3 or more nights?"),
    ("Does the doctor's office need my consent?", "Does my doctor's office need my consent?"),
    ("Is it cheaper to buy the game online or offline?", "Is buying the game offline or online cheaper?"),
    ("How do I install the printer driver offline?", "How can I install the printer driver while offline?"),
    ("Is a nonrefundable fare cheaper?", "Are non-refundable fares cheaper?"),  # one negation, spelt two ways
    ("Which is cheaper, peak or off-peak?", "Is off-peak cheaper than peak?"),  # both say both
    ("Can I leave my car at the airport when I leave and pick it up when I arrive?",
     "Can I park at the airport when I leave and drive home when I arrive?"),  # both ends on both sides
])
def test_paraphrases_and_both_ends_pass(query, cached):
    assert guard(query, cached) is None
    assert guard(cached, query) is None


def test_reversals_need_a_base_of_four_letters_and_a_content_word():
    assert reversed_words(["unfreeze", "uninstall", "unit", "until", "union", "unless"]) == {"freeze", "install"}


def test_a_negating_prefix_reads_as_one_negation_however_spelt():
    assert hyphen_negated("non-refundable, non refundable or nonrefundable? off-peak") == {"refundable", "peak"}
    # "non-stop" runs on and "nonprofit" is a word: neither negates; a word also said plainly is not negated
    assert hyphen_negated("a non-stop flight by a nonprofit, peak or off-peak") == frozenset()


def test_a_prefix_needs_three_letters_after_it():
    assert prefixed_words(["offline", "into", "upon", "often", "inbox"]) == {("off", "line"), ("in", "box")}


def test_the_antonyms_switch_turns_the_event_guard_off():
    off = GuardPolicy(antonyms=False)
    assert guard("When does the ferry arrive?", "When does the ferry depart?", off) is None
    assert guard("How do I freeze my card?", "How do I unfreeze my card?", off) is None
    assert guard("Can I play it offline?", "Can I play it online?", off) is None


@pytest.mark.parametrize(("query", "cached"), [
    ("If my train leaves Leeds at 6 am and takes 3 hours, when do I arrive in London?",
     "If my train arrives in London at 6 am after 3 hours, when did it leave Leeds?"),
    ("If I buy shares at $20 and sell them at $30, what is my gain?",
     "If I sell shares at $20 and buy them back at $30, what is my gain?"),
])
def test_a_detail_bound_to_the_other_end_of_the_event_is_rejected(query, cached):
    assert guard(query, cached) == "order"
    assert guard(cached, query) == "order"


def test_both_ends_bound_alike_pass():
    assert guard("If my train leaves Leeds at 6 am, when do I arrive in London?",
                 "When do I arrive in London if my train leaves Leeds at 6 am?") is None
