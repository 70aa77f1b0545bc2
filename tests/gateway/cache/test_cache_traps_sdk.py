"""Through the openai SDK: a question that differs in one answer-changing detail never gets the other's answer."""

import openai
import pytest

TRAPS = {
    "antonyms": ("Are cheap flights to Rome worth it?", "Are expensive flights to Rome worth it?"),
    "order": ("How do I convert USD to EUR?", "How do I convert EUR to USD?"),
    "times": ("Is the pharmacy open at 7 am?", "Is the pharmacy open at 7 pm?"),
    "units": ("How long does a 10 mile run take?", "How long does a 10 km run take?"),
    "currencies": ("Can I send $100 abroad for free?", "Can I send €100 abroad for free?"),
    "scope": ("Can I cancel my order within 14 days?", "Can I cancel my order after 14 days?"),
    "event_ends": ("Which terminal does the flight that lands at 7 pm use?",
                   "Which terminal does the flight that leaves at 7 pm use?"),
    "reversal": ("How do I freeze my debit card in the app?", "How do I unfreeze my debit card in the app?"),
    "bound": ("Do I need to pay at least the minimum payment?", "Do I need to pay at most the minimum payment?"),
    "relation_parties": ("Does the landlord pay for a broken boiler?", "Does the tenant pay for a broken boiler?"),
}


def ask(client: openai.OpenAI, content: str):
    raw = client.chat.completions.with_raw_response.create(model="echo-1",
                                                           messages=[{"role": "user", "content": content}])
    return raw.headers, raw.parse().choices[0].message.content


@pytest.fixture
def client(cached_gateway):
    return openai.OpenAI(base_url=f"{cached_gateway()}/v1", api_key="unused", max_retries=0)


@pytest.mark.parametrize("kind", list(TRAPS))
def test_each_trap_kind_misses(client, echo, kind):
    first, second = TRAPS[kind]
    ask(client, first)
    headers, answer = ask(client, second)
    assert headers["x-semgate-cache"] == "miss"
    assert answer == f"Echo: {second}"
    assert echo.stats.requests == 2


def test_the_same_question_reworded_still_hits(client, echo):
    ask(client, "Are flights from London to Paris cheap in May?")
    headers, answer = ask(client, "Are flights to Paris from London cheap in May?")
    assert headers["x-semgate-cache"] == "hit"
    assert answer == "Echo: Are flights from London to Paris cheap in May?"


@pytest.mark.parametrize(("cached", "asked"), [
    ("How do I freeze my debit card in the app?", "how do i frezee my debit card in the app"),  # typos
    ("Is there a fee to transfer money to my savings account?",
     "hey there - is there a fee to tarnsfer money to my savings acount?"),  # a greeting and typos
    ("How do I reset my router password?", "Could you please tell me how I reset my router password? Thanks!"),
])
def test_a_typod_or_chatty_wording_of_the_question_hits(client, echo, cached, asked):
    ask(client, cached)
    headers, answer = ask(client, asked)
    assert headers["x-semgate-cache"] == "hit"
    assert answer == f"Echo: {cached}"
    assert echo.stats.requests == 1


@pytest.mark.parametrize(("cached", "asked"), [
    ("Is the pharmacy open at 7 am?", "hey there - is the pharmacy open at 7 pm?"),
    ("How do I convert USD to EUR?", "quick question: how do I convert EUR to USD? thanks"),
    ("Can I cancel my order within 14 days?", "hi, can I canel my order after 14 days?"),
])
def test_a_greeting_or_a_typo_never_carries_a_trap_through(client, echo, cached, asked):
    ask(client, cached)
    headers, answer = ask(client, asked)
    assert headers["x-semgate-cache"] == "miss"
    assert answer == f"Echo: {asked}"


@pytest.mark.parametrize(("cached", "asked"), [
    ("How do I cancel my gym membership online?", "Is there a way to cancel my gym membership online?"),
    ("How do I change the PIN on my debit card?", "is there any way to change the PIN on my debit card"),
    ("How do I sign up for a library card?", "what do I need to do to sign up for a library card?"),
    ("How do I book a table at a restaurant on OpenTable?",
     "What are the steps to book a table at a restaurant on OpenTable?"),
])
def test_another_frame_for_the_same_procedure_hits(client, echo, cached, asked):
    ask(client, cached)
    headers, answer = ask(client, asked)
    assert headers["x-semgate-cache"] == "hit"
    assert answer == f"Echo: {cached}"
    assert echo.stats.requests == 1


@pytest.mark.parametrize(("cached", "asked"), [
    ("How do I transfer money from PayPal to my bank?", "Is there a way to transfer money from my bank to PayPal?"),
    ("How do I install Python on Windows?", "What are the steps to uninstall Python on Windows?"),
    ("Can I bring two bags on a Ryanair flight?", "can I bring three bags on a Ryanair flight"),
    ("What colour is a ripe mango?", "What color is an unripe mango?"),
])
def test_a_shared_frame_or_spelling_never_carries_a_trap_through(client, echo, cached, asked):
    ask(client, cached)
    headers, answer = ask(client, asked)
    assert headers["x-semgate-cache"] == "miss"
    assert answer == f"Echo: {asked}"
