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
    # two numbers or names that traded the words before them, across a moved clause or a dropped word
    "traded_numbers": ("Our watering restrictions only allow sprinklers before 10 am - can I water the lawn at 9 am?",
                       "Can I water the lawn at 10 am if our watering restrictions only allow sprinklers before 9 am?"),
    "traded_names": ("If a game starts at 1 pm London time, what time is that in Eastern time?",
                     "If a game starts at 1 pm Eastern time, what time is that in London?"),
}

# One slot filled differently (gateway/cache/substitutions.py) and the quantity and direction wordings the guards
# read since issue #23's guards23 round: constructed, in the tune domains and general English.
SLOT_TRAPS = {
    "lowercase_product": ("how do i clear the cache in chrome", "how do i clear the cache in firefox"),
    "card_brand": ("Can I pay with visa at Costco?", "Can I pay with mastercard at Costco?"),
    "animal": ("Is chocolate toxic to dogs?", "Is chocolate toxic to cats?"),
    "period": ("Is the fee charged per transaction?", "Is the fee charged per month?"),
    "only": ("Can I return sale items?", "Can I return only sale items?"),
    "either_both": ("Do both account holders need to sign?", "Does either account holder need to sign?"),
    "into_out_of": ("How do I move money into my savings account?", "How do I move money out of my savings account?"),
    "arrow": ("What is the drive time Denver -> Aspen in winter?", "What is the drive time Aspen -> Denver in winter?"),
    "dozen": ("What do I get if I refer a couple of friends?", "What do I get if I refer a dozen friends?"),
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


@pytest.mark.parametrize(("look_alike", "cached", "asked"), [
    ("How much protein should I eat a day to build muscle if I weigh 85 kg?",
     "How much protein should I eat a day to build muscle if I weigh 70 kg?",
     "If I weigh 70 kg, how much protein should I eat a day to build muscle?"),
    ("When does my billing cycle start if I signed up on the 15th of the month?",
     "When does my billing cycle start if I signed up on the 3rd of the month?",
     "If I signed up on the 3rd of the month, when does my billing cycle start?"),
    ("Our watering restrictions only allow sprinklers before 10 am - can I water the lawn at 3 pm?",
     "Our watering restrictions only allow sprinklers before 10 am - can I water the lawn at 9 am?",
     "Can I water the lawn at 9 am if our watering restrictions only allow sprinklers before 10 am?"),
    ("Can I return an item at the IKEA customer service desk at 9 am on a Sunday?",  # two parts moved
     "Can I return an item at the Walmart customer service desk at 11 pm on a Sunday?",
     "On a Sunday at 11 pm, can I return an item at the Walmart customer service desk?"),
    # another frame that asks the same
    ("How do I cancel my LA Fitness membership?", "How do I cancel my Planet Fitness membership?",
     "What is the procedure for cancelling my Planet Fitness membership?"),
    ("Can my landlord read my electricity meter?", "Can my manager read my work emails?",
     "Is my manager allowed to read my work emails?"),
])
def test_the_same_question_reordered_or_in_another_frame_hits(client, echo, look_alike, cached, asked):
    # Beside a look-alike (the same question for another value) the verifier doubts these; the same words
    # in another order, parts moved whole (gateway/cache/clause_order.py), or in another frame that asks the
    # same (gateway/cache/frames.py: "what is the procedure for cancelling" / "how do I cancel") are one question.
    ask(client, look_alike)
    ask(client, cached)
    headers, answer = ask(client, asked)
    assert headers["x-semgate-cache"] == "hit"
    assert answer == f"Echo: {cached}"


@pytest.mark.parametrize(("cached", "asked"), [
    ("How do I freeze my debit card in the app?", "how do i frezee my debit card in the app"),  # typos
    ("Is there a fee to transfer money to my savings account?",
     "hey there - is there a fee to tarnsfer money to my savings acount?"),  # a greeting and typos
    ("How do I reset my router password?", "Could you please tell me how I reset my router password? Thanks!"),
    # the guards read the slips corrected: "mniutes" is minutes, "frst" is first
    ("If I run 8 minutes per mile, what is my pace in minutes per kilometer?",
     "evening! if i run 8 mniutes per mile, what is my pace in minutes per kliometer"),
    ("What time is the first flight from London to Paris on Monday?",
     "what time is the frst flihgt from London to Paris on Monday"),
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
    ("How long does a 10 mile run take?", "hiya, how long does a 10 kliometer run take"),
])
def test_a_greeting_or_a_typo_never_carries_a_trap_through(client, echo, cached, asked):
    ask(client, cached)
    headers, answer = ask(client, asked)
    assert headers["x-semgate-cache"] == "miss"
    assert answer == f"Echo: {asked}"


@pytest.mark.parametrize("kind", list(SLOT_TRAPS))
def test_a_slot_filled_differently_misses(client, echo, kind):
    first, second = SLOT_TRAPS[kind]
    ask(client, first)
    headers, answer = ask(client, second)
    assert headers["x-semgate-cache"] == "miss"
    assert answer == f"Echo: {second}"


@pytest.mark.parametrize(("cached", "asked"), [
    ("How long do I bake cookies at 350F?", "How long do I bake cookies at 350 degrees Fahrenheit?"),
    ("What is the fastest way to the airport from downtown?", "What is the quickest way to the airport from downtown?"),
])
def test_the_same_slot_in_other_words_hits(client, echo, cached, asked):
    ask(client, cached)
    headers, answer = ask(client, asked)
    assert headers["x-semgate-cache"] == "hit"
    assert answer == f"Echo: {cached}"
