"""Guards veto candidates that differ in a detail that changes the answer, and only those."""

import numpy as np
import pytest

from gateway.cache.guards import extract_facts, rejection
from gateway.cache.oppositions import scope_words
from gateway.cache.text import normalise, words
from gateway.cache.verifier_features import scalar_features, view
from policies.schema import GuardPolicy

ALL_ON = GuardPolicy()


def guard(query: str, cached: str, switches: GuardPolicy = ALL_ON) -> str | None:
    return rejection(extract_facts(query), extract_facts(cached), switches)


@pytest.mark.parametrize(("query", "cached", "tripped"), [
    ("How do I lose 10 kg?", "How do I lose 20 kg?", "numbers"),
    ("How do I lose weight in 2 weeks?", "How do I lose weight?", "numbers"),
    ("What is the best phone under 20,000?", "What is the best phone under 15000?", "numbers"),
    ("Who won the world cup in 2014?", "Who won the world cup in 2018?", "numbers"),
    ("What's on TV on Monday?", "What's on TV on Friday?", "dates"),
    ("Is the market open tomorrow?", "Is the market open today?", "dates"),
    ("Is the bank open on the 5th of May?", "Is the bank open on the 5th of March?", "dates"),
    ("Was it released in May 2020?", "Was it released in 2020?", "dates"),
    ("Why do cats purr?", "Why don't cats purr?", "negation"),
    ("Can I run Python without installing it?", "Can I run Python by installing it?", "negation"),
    ("What is the best IDE for Java?", "What is the best IDE for Python?", "entities"),
    ("How do I learn C++?", "How do I learn C#?", "entities"),
    ("What does os.path.join do?", "What does os.walk do?", "entities"),
    ("How do I fix a KeyError in my_dict?", "How do I fix a KeyError in other_dict?", "entities"),
])
def test_a_differing_fact_is_rejected(query, cached, tripped):
    assert guard(query, cached) == tripped
    assert guard(cached, query) == tripped  # symmetric


@pytest.mark.parametrize(("query", "cached"), [
    ("How do I lose 10 kg?", "How can I lose 10 kilograms?"),
    ("How do I lose ten kg?", "What's the way to lose 10 kg?"),
    ("What is the best phone under 20,000?", "Which phone is best under 20000?"),
    ("How do I learn python?", "What is the best way to learn Python?"),
    ("What Is The Best Way To Learn Programming?", "How should I learn programming?"),
    ("Why is Trump popular?", "Why is Trump's popularity so high?"),
    # a title names no one, and an acronym with dots is the acronym
    ("Was Mahatma Gandhi a vegetarian?", "Was Gandhi a vegetarian?"),
    ("Did Dr. Fauci lead the NIAID?", "Did Fauci lead the NIAID?"),
    ("What is the population of the U.S.?", "What is the population of the USA?"),
    ("Do I need a visa for the U.K.?", "Do I need a visa for the UK?"),
    ("Is the pharmacy open at 7 P.M.?", "Is the pharmacy open at 7 pm?"),
    ("Which one is better, tea or coffee?", "Is tea better than coffee?"),
    ("How may I improve my English?", "How can I improve my English?"),
    # a clock time's digits beside the modal "may" make no date of it
    ("If watering is only allowed before 10:00, may I water my lawn at 09:00?",
     "Watering is only allowed before 10 am - can I water the lawn at 9 am?"),
    # "at no extra cost" and "without roaming charges" say "free" and negate nothing asked
    ("Does my plan include free roaming in Mexico?", "Does my plan cover roaming in Mexico at no extra cost?"),
    ("Can I cancel my gym membership without a fee?", "Can I cancel my gym membership for free?"),
    ("Can I use my phone in Canada without roaming charges?", "Does my plan include free roaming in Canada?"),
    # "won't stop barking" says "keeps barking"
    ("My neighbour's dog keeps barking at night. What can I do?",
     "my neighbour's dog won't stop barking at night, what can i do?"),
    ("Why does my laptop keep restarting?", "Why won't my laptop stop restarting?"),
    ("If I start the bread dough at 9 am, when will it be ready?",
     "When will the bread dough be ready if I begin it at 9 am?"),
    # the "to" of "for dogs to eat" makes dogs no source
    ("Is it safe for my cat to eat tuna?", "Is tuna toxic to my cat?"),
])
def test_paraphrases_pass(query, cached):
    assert guard(query, cached) is None


def test_each_guard_can_be_switched_off_per_category():
    assert guard("How do I lose 10 kg?", "How do I lose 20 kg?", GuardPolicy(numbers=False)) is None
    assert guard("Why do cats purr?", "Why don't cats purr?", GuardPolicy(negation=False)) is None
    assert guard("Best IDE for Java?", "Best IDE for Python?", GuardPolicy(entities=False)) is None
    assert guard("Open on Monday?", "Open on Friday?", GuardPolicy(dates=False)) is None


@pytest.mark.parametrize(("query", "cached", "tripped"), [
    # antonyms (WordNet's, shipped in gateway/cache/antonyms.txt), inflections included
    ("Are cheap flights to Rome worth it?", "Are expensive flights to Rome worth it?", "antonyms"),
    ("How do I increase my credit limit?", "How do I decrease my credit limit?", "antonyms"),
    ("Why is my phone charging slowly?", "Why is my phone charging fast?", "antonyms"),
    ("How do I buy shares?", "How do I sell shares?", "antonyms"),
    ("What is the minimum balance?", "What is the maximum balance?", "antonyms"),
    ("Can I play Minecraft offline?", "Can I play Minecraft online?", "antonyms"),
    ("How early should I arrive for a domestic flight?", "How early should I arrive for an international flight?",
     "antonyms"),
    ("Is the pool open on weekdays?", "Is the pool open on weekends?", "antonyms"),
    ("Is it legal to record phone calls?", "Is it illegal to record phone calls?", "antonyms"),
    ("How do I turn on Bluetooth?", "How do I turn off Bluetooth?", "antonyms"),
    ("Why did my bill get worse?", "Why did my bill get better?", "antonyms"),
    ("Can I add a line at no extra cost?", "Why can't I add a line at no extra cost?", "negation"),
    ("Can I board without a passport?", "Can I board with a passport?", "negation"),
    # the two directions of one change
    ("How do I gain weight quickly?", "How do I lose weight quickly?", "antonyms"),
    ("Can I increase my credit limit online?", "Can I lower my credit limit online?", "antonyms"),
    ("Should I accept the counteroffer?", "Should I decline the counteroffer?", "antonyms"),
    ("Is it easier to get a mortgage with a high credit score?", "Is it harder to get a mortgage with a high credit score?",
     "antonyms"),
    # argument order
    ("Are flights from London to Paris cheap?", "Are flights from Paris to London cheap?", "order"),
    ("How do I convert USD to EUR?", "How do I convert EUR to USD?", "order"),
    ("How do I convert a PDF to Word?", "How do I convert a Word file to PDF?", "order"),
    ("Did Argentina beat France in the final?", "Did France beat Argentina in the final?", "order"),
    ("Is tea better than coffee?", "Is coffee better than tea?", "order"),
    ("How do I move money from checking to savings?", "How do I move money from savings to checking?", "order"),
    ("How many miles per gallon?", "How many gallons per mile?", "order"),
    # times of day
    ("Set an alarm for 7 am", "Set an alarm for 7 pm", "times"),
    ("Is the pharmacy open at 9 a.m.?", "Is the pharmacy open at 21:00?", "times"),
    ("Book a table for 7:30pm", "Book a table for 8:30pm", "times"),
    ("Do I need a visa for the U.K.?", "Do I need a visa for the U.S.?", "entities"),
    ("Is an MS in Germany worth it?", "Is an MBA in Germany worth it?", "entities"),  # the acronym is no title
    ("Is the clinic open at 8 pm?", "Is the clinic open at 08:00?", "times"),  # zero-padded: 24-hour writing
    ("Is the clinic open at 10 pm?", "Is the clinic open at 10:00?", "times"),  # no am/pm: 24-hour writing too
    # units and currencies
    ("How long does a 10 mile run take?", "How long does a 10 km run take?", "units"),
    ("Can I send $100 abroad?", "Can I send €100 abroad?", "units"),
    ("What is 30 degrees celsius?", "What is 30 degrees fahrenheit?", "units"),
    ("How many ounces are in a pint?", "How many ounces are in a quart?", "units"),
    ("How much grass seed for 2 acres?", "How much grass seed for 2 hectares?", "units"),
    ("Is there an annual fee for the library card?", "Is there a monthly fee for the library card?", "units"),
    ("Is it okay to run every other day?", "Is it okay to run every day?", "units"),
    ("Can I get a refund within 30 days?", "Can I get a refund within 30 weeks?", "units"),
    # "square" and "cubic" make a length an area or a volume of its own
    ("How much paint for 100 square feet?", "How much paint for 100 square meters?", "units"),
    ("How heavy is a cubic foot of soil?", "How heavy is a cubic meter of soil?", "units"),
    # scope
    ("Can I return all items?", "Can I return some items?", "scope"),
    ("Should I eat before a workout?", "Should I eat after a workout?", "scope"),
    ("Can I cancel within 14 days?", "Can I cancel after 14 days?", "scope"),
    ("Is tax included in the price?", "Is tax excluded from the price?", "antonyms"),
    ("Can I bring liquids over 100 ml?", "Can I bring liquids under 100 ml?", "scope"),
])
def test_each_trap_kind_is_rejected(query, cached, tripped):
    assert guard(query, cached) == tripped
    assert guard(cached, query) == tripped


@pytest.mark.parametrize(("query", "cached"), [
    ("Are flights from London to Paris cheap?", "Are flights to Paris from London cheap?"),
    ("Is it cheap to fly to Rome?", "Are flights to Rome cheap?"),
    ("How do I get to the airport from downtown?", "What is the best way to get from downtown to the airport?"),
    ("Did Argentina beat France?", "Was France beaten by Argentina?"),
    ("Set an alarm for 7 pm", "Set an alarm for 19:00"),
    ("Is the store open at 7pm?", "Is the shop open at 7 p.m.?"),
    ("Wake me at 7:00", "Wake me at 7 am"),
    ("Is the pool open at 21:30?", "Is the pool open at 9:30 pm?"),
    ("Can I send 100 dollars abroad?", "Can I send $100 abroad?"),
    ("How long is a 10 km run?", "How long does a 10 kilometre run take?"),
    ("Can I withdraw 500 at an ATM?", "Can I withdraw $500 at an ATM?"),
    ("How do I increase my credit limit?", "How can I get my credit limit increased?"),
    ("What is the fastest way to learn Spanish?", "How can I learn Spanish quickly?"),
    ("Can I return an item after 30 days?", "Is it possible to return something after 30 days?"),
    ("Can I return items?", "Can I return all items?"),
    ("Is it hot or cold in Lisbon in May?", "Is Lisbon cold or hot in May?"),
    ("How do I transfer money to my savings account?", "How can I move money into my savings account?"),
    ("How long does it take to get a new passport?", "How long will it take to receive a new passport?"),
    ("How do I stop my screen from turning off?", "How can I keep my screen from turning off?"),
    ("Is it safe to drink tap water in Lisbon?", "Can I safely drink the tap water in Lisbon?"),
    ("hey, quick q: how do i reset my password?", "How do I reset my password?"),
    ("How much paint for a 100 sq meter wall?", "How much paint do I need for a wall of 100 square metres?"),
])
def test_paraphrases_pass_the_new_guards(query, cached):
    assert guard(query, cached) is None
    assert guard(cached, query) is None


def test_the_new_guards_can_be_switched_off_per_category():
    assert guard("Is it cheap?", "Is it expensive?", GuardPolicy(antonyms=False)) is None
    assert guard("Convert USD to EUR", "Convert EUR to USD", GuardPolicy(order=False)) is None
    assert guard("Alarm at 7 am", "Alarm at 7 pm", GuardPolicy(times=False)) is None
    assert guard("Run 10 miles", "Run 10 km", GuardPolicy(units=False)) is None
    assert guard("Return all items", "Return some items", GuardPolicy(scope=False)) is None


HOSTILE_TEXTS = {
    "dots": "a" + "." * 16_000 + "a", "capitals": "A " * 8_000, "identifier": "a" + "1" * 16_000 + "_",
    "code rule": "function" + " " * 16_000, "directions": "from a to " * 1_600, "quantities": "7 pm 19:00 $1 km " * 900,
    "backtick": "`" + "a" * 16_000, "ampersands": "A&" * 8_000, "dotted names": " ".join(f"x.y{i}" for i in range(2_000)),
    "spaces before a dash": "a" + " " * 16_000 + "-", "if clauses": "if a, " * 2_700,
}


@pytest.mark.parametrize("name", list(HOSTILE_TEXTS))
def test_hostile_text_is_read_to_the_end(name):
    # Each of these took seconds at 8,000 characters with the quadratic regexes; how long reading takes
    # at the message limit is the soak bench's to print (`semgate bench soak`, regex bait).
    text = HOSTILE_TEXTS[name]
    query, cached = view(text), view(text[: len(text) // 2])
    assert normalise(text) and query.facts.lowered == text.casefold()
    assert len(scalar_features(query, cached, 0.9, np.ones(1 << 16, dtype=np.float32))) > 0
    rejection(query.facts, cached.facts, GuardPolicy())


def test_a_day_named_in_the_possessive_is_still_a_date():
    today = extract_facts("How many yen will I get for 100 dollars at today's rate?")
    year_ago = extract_facts("How many yen would I have got for 100 dollars at the rate a year ago?")
    assert "today" in today.dates
    assert rejection(today, year_ago, GuardPolicy()) == "dates"


@pytest.mark.parametrize(("query", "cached", "tripped"), [
    # a condition one question adds to the other
    ("Can I get a refund on a sale item?", "Can I get a refund on a sale item after the return window?", "scope"),
    ("Is breakfast served at the hotel?", "Is breakfast served at the hotel before check-in?", "scope"),
    ("Are taxes part of the quoted price?", "Are taxes part of the quoted price excluding delivery?", "scope"),
    ("Before the wedding, do I need a blood test?", "Do I need a blood test?", "scope"),
    ("Can I park on the street overnight?", "Can I park on the street overnight during winter?", "scope"),
    # a restriction against the whole
    ("Does the speed limit drop in school zones during school hours only?",
     "Does the speed limit drop in school zones at all times?", "scope"),
    # an amount where the other asks whether
    ("Is caffeine bad for cats?", "How much caffeine is bad for cats?", "scope"),
    ("Are strawberries safe for rabbits?", "How many strawberries are safe for rabbits?", "scope"),
    ("Are grapes bad for cats?", "How many grapes are bad for a cat?", "scope"),
    # a condition clause of its own, the rest the same question (a word changed at most)
    ("How do I cancel my gym membership?",
     "How do I cancel my gym membership if I signed up through my health insurance?", "scope"),
    ("How long should I bake a 2 pound meatloaf at 350F?",
     "How long should I bake a 2 pound meatloaf at 350F if it's still frozen?", "scope"),
    ("Can I keep my number when I switch carriers unless I still owe on my phone?",
     "Can I keep my number when I switch carriers?", "scope"),
    # acting on the thing the other asks about
    ("What's the shortcut to mute in Zoom?", "How do I change the shortcut to mute in Zoom?", "scope"),
    # a word with an opposite that the other question leaves unsaid
    ("When is the ferry to Dover on Sunday?", "When does the ferry to Dover arrive on Sunday?", "antonyms"),
    ("What time is the museum tour on Saturday?", "What time does the museum tour finish on Saturday?", "antonyms"),
    # the same words about someone else
    ("Who pays for my hotel if the airline cancels?", "Who pays for their hotel if the airline cancels?", "order"),
    ("Can I claim the home office deduction?", "Can they claim the home office deduction?", "order"),
    # someone else acts or owns where the other asks about the asker alone
    ("Can I cancel my gym membership online?", "Can someone else cancel my gym membership online?", "order"),
    ("How do I share my Spotify playlist?", "How do I follow someone else's Spotify playlist?", "order"),
    # who does it to whom: the pronoun's case says its role, whatever the verb
    ("If I rear-end another driver, whose insurance pays?", "If another driver rear-ends me, whose insurance pays?",
     "order"),
    ("Should I call him after the interview?", "Should he call me after the interview?", "order"),
    ("If I accidentally rear-end a car, who pays?", "If a car accidentally rear-ends me, who pays?", "order"),
    ("Does my ex have to pay me child support?", "Do I have to pay my ex child support?", "order"),
    ("Can't I sue him for the deposit?", "Can he not sue me for the deposit?", "order"),
    # leaving a place is "from" it, reaching one "to" it
    ("Which train leaves Leeds before 9 am?", "Which train gets me to Leeds before 9 am?", "order"),
    ("Which bus reaches Dover by noon?", "Which bus departs Dover by noon?", "order"),
    # a time bound to the start in one question and to the end in the other, however far back its event word
    ("If I put the roast in the oven at 5 pm, when will it be done?",
     "If I want the roast done by 5 pm, when should I put it in the oven?", "order"),
    ("If I send a wire transfer from my savings at 3 pm, when will it arrive?",
     "If a wire transfer from my savings arrives at 3 pm, when was it sent?", "order"),
    # a phrase of its own (a place, a party, a season), the rest word for word the same
    ("Can I cancel my gym membership?", "Can I cancel my gym membership at another location?", "scope"),
    ("How many players make the all-star team?", "How many players from each league make the all-star team?",
     "scope"),
    ("How often should I fertilize my lawn?", "How often should I fertilize my lawn in the spring?", "scope"),
    ("Can I get a refund on a train ticket if I miss it?",
     "Can I get a refund on a train ticket for a group booking if I miss it?", "scope"),
])
def test_a_qualifier_or_a_person_one_question_adds_is_rejected(query, cached, tripped):
    assert guard(query, cached) == tripped
    assert guard(cached, query) == tripped


@pytest.mark.parametrize(("query", "cached"), [
    ("Is garlic safe for cats?", "um, honestly, is garlic safe for cats?"),  # an opener qualifies nothing
    ("How do I reset a router?", "Sorry if this is basic, but how do I reset a router?"),
    # the same condition said as a statement first, then as an if-clause; a follow-up if-clause
    ("My train leaves at 8 am. When should I get to the station?",
     "When should I get to the station if my train leaves at 8 am?"),
    ("Is coffee bad for your teeth?", "Is coffee bad for your teeth? If so, why?"),
    # an if-clause that says nothing of its own (an aside, "whether") or that both set
    ("How do I cancel my gym membership?", "How do I cancel my gym membership, if anyone knows?"),
    ("How do I cancel my gym membership?", "How do I cancel my gym membership if possible?"),
    ("Is my gym membership cancelled?", "How can I tell if my gym membership is cancelled?"),
    ("If I joined through insurance, how do I cancel my gym membership?",
     "How do I cancel my gym membership if I joined through my insurance?"),
    ("How did Rome end up so powerful?", "Why did Rome become so powerful?"),
    ("How do I get my iCloud password?", "What should I do if I forgot my iCloud password?"),
    ("Is garlic safe for cats?", "Okay, slightly worried here: is garlic safe for cats?"),
    ("Can I pay my phone bill online?", "Can I pay my phone bill online in the app?"),
    # an added phrase of manner or emphasis narrows nothing
    ("How does compound interest work?", "How does compound interest work in simple terms?"),
    ("Who is the best tennis player?", "Who is the best tennis player in history?"),
    ("How do I renew my passport?", "How do we renew our passport?"),  # I and we: one person
    ("How do I renew my passport?", "How do I renew a passport?"),
    ("How do I cancel my gym membership?", "How do I cancel my gym membership online?"),
    ("How do you renew a passport?", "How do I renew a passport?"),  # the generic "you"
    ("How can I sell my paintings online?", "How can I sell your paintings online?"),
    ("How long should I wait to call him?", "How long should I wait to call?"),
    ("Can my dog eat rice?", "Can dogs eat rice?"),  # a pronoun on one side only
    ("Can my wife pick up my passport?", "Can someone else pick up my passport, like my wife?"),
    ("Does anyone else get charged twice for Netflix?", "Why does Netflix charge me twice?"),
    ("Is the pharmacy on Elm Street open tonight?", "Is the pharmacy on Elm Street open this evening?"),
    ("For this trip, I'm covered by Allianz: does it pay for lost bags?", "Does Allianz pay for lost bags?"),
    ("When is the ferry to Dover on Sunday?", "When does the ferry to Dover leave on Sunday?"),  # when it starts
    ("How many apples are in a pound?", "Apples in a pound?"),  # an amount, and no yes or no to ask
    ("Can I park on the street overnight in winter?", "Am I allowed to park on the street overnight during winter?"),
    ("Do I take it daily?", "Do I take it every day?"),  # one frequency, two wordings
    ("Is there an annual fee?", "Is there a yearly fee?"),
    ("How much is the monthly fee?", "How much is the fee per month?"),
    # the same person on the same side of its verb; a state is no act ("am I single")
    ("How can I know if someone has blocked me on Hike?", "How do I know if I have been blocked on Hike?"),
    ("Why am I still single?", "Why I am single?"),
    ("How do I know if she loves me?", "How do I know she loves me?"),
])
def test_openers_other_added_words_and_the_same_people_pass(query, cached):
    assert guard(query, cached) is None
    assert guard(cached, query) is None


def test_only_restricts_unless_it_names_the_one():
    assert scope_words(words("can i only pay in cash?")) == {"only"}
    assert scope_words(words("am i the only atheist here?")) == frozenset()
    assert scope_words(words("is she an only child?")) == frozenset()


@pytest.mark.parametrize(("query", "cached"), [
    # An amount of time in other units, or as a word: one quantity.
    ("How much interest will I earn on $5,000 at 4% APY over twelve months?",
     "How much interest will I earn on $5,000 at 4% APY over one year?"),
    ("How long does a 360-minute audiobook take at 1.25x speed?", "How long will a 6-hour audiobook take at 1.25x speed?"),
    ("How can I lose 5 kg in one month?", "How can I lose 5 kg in 1 month?"),
    # "least"/"less" before a word with an antonym says that antonym.
    ("whats the least expensive way to ship my order to Canada", "What's the cheapest way to ship an order to Canada?"),
    # Other names of one day, one currency, one time zone.
    ("What do 500 US dollars convert to in euros right now?", "How many euros will I get for 500 US dollars at today's rate?"),
    # "now" after a duration or "by" ends a span, it names no day.
    ("My laptop has been slow for a few weeks now, how do I speed it up?",
     "My laptop has been slow for a few weeks, how do I speed it up?"),
    ("Should my parcel have arrived by now?", "Should my parcel have arrived?"),
    # a vague day that only sets the scene before the question
    ("Out of eggs right now - can I use applesauce instead of eggs in muffins?",
     "Can I use applesauce instead of eggs in muffins?"),
    ("Flying out next week. Can I bring a power bank in my carry-on?", "Can I bring a power bank in my carry-on?"),
    # "earliest" before what it counts is "first"; "within how many days" sets no period
    ("When's the earliest train from Leeds to York on Saturday?", "What time is the first train from Leeds to York on Saturday?"),
    ("As a first-time home buyer, what is PMI?", "What is PMI?"),  # an ordinal fused into an adjective counts nothing
    ("When did Arsenal most recently beat Chelsea at home?", "When did Arsenal last beat Chelsea at home?"),
    ("Within how many days must I report a lost card following a theft?",
     "How many days do I have to report a lost card after a theft?"),
    ("Is unused data carried forward to the following month?", "Does unused data roll over to next month?"),
    ("Can I return an item at 9 am on Sundays?", "Can I return an item at 9 am on a Sunday?"),
    ("Netflix Standard price per month in usd?", "How much is Netflix Standard per month in US dollars?"),
    ("7:30 pm ET kickoff - what's that in Pacific time?", "If a game starts at 7:30 pm Eastern time, what time is that in Pacific time?"),
    ("Is 30 degrees Celsius too hot to walk my dog?", "Is it too hot to walk my dog when it's 30°C outside?"),
])
def test_one_quantity_day_or_name_said_another_way_passes(query, cached):
    assert guard(query, cached) is None


@pytest.mark.parametrize(("query", "cached", "tripped"), [
    ("How long does a 600-minute audiobook take?", "How long will a 6-hour audiobook take?", "numbers"),
    # a named day sets more than the scene; a vague one in the question itself is asked
    ("It's Sunday - is the pharmacy on Elm Street open?", "Is the pharmacy on Elm Street open?", "dates"),
    ("Is the pharmacy on Elm Street open next week?", "Is the pharmacy on Elm Street open?", "dates"),
    ("What time is the second train from Leeds to York?", "What time is the earliest train from Leeds to York?", "numbers"),
    ("Can I finish it in 5 minutes?", "Can I finish it in 5 hours?", "units"),
    ("What is the least expensive flight to Rome?", "What is the most expensive flight to Rome?", "antonyms"),
    ("What is the least expensive flight to Rome?", "What is an expensive flight to Rome?", "antonyms"),
    ("What can I do to feel less depressed?", "What can I do if I feel slightly depressed?", "antonyms"),
    ("If it is 3 pm PT, what time is it in ET?", "If it is 3 pm Eastern time, what time is it in Pacific time?", "order"),
    ("How much is Netflix in the US, in US dollars?", "How much is Netflix per month in usd?", "entities"),
])
def test_the_same_readings_still_tell_different_facts_apart(query, cached, tripped):
    assert guard(query, cached) == tripped
