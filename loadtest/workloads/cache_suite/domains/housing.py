"""Housing: renting, deposits, mortgages, repairs."""

from loadtest.workloads.cache_suite.model import Family, Offer, Scenario

FAMILIES = (
    Family("housing.mortgage-payment", "What is the monthly payment on a ${p} mortgage at {r}% over {y} years?",
           ({"p": "300,000", "p2": "30,000", "r": "6.5", "r2": "3.5", "y": "30", "y2": "15"},
            {"p": "450,000", "p2": "150,000", "r": "5", "r2": "7", "y": "25", "y2": "10"}),
           hits=(("casual", "monthly payment for ${p} mortgage, {r}%, {y} yrs?"),
                 ("formal", "What would the monthly repayment be on a ${p} loan at an interest rate of {r}% with "
                            "a {y}-year term?"),
                 ("reorder", "Over {y} years at {r}%, what's the monthly payment on a ${p} mortgage?")),
           misses=(("number", "What is the monthly payment on a ${p2} mortgage at {r}% over {y} years?"),
                   ("number", "What is the monthly payment on a ${p} mortgage at {r2}% over {y} years?"),
                   ("number", "What is the monthly payment on a ${p} mortgage at {r}% over {y2} years?"),
                   ("date", "What is the weekly payment on a ${p} mortgage at {r}% over {y} years?"))),
    Family("housing.deposit-return", "How long does my landlord have to return my deposit in {state} after I "
                                     "move out?",
           ({"state": "California", "state2": "Texas"}, {"state": "Ontario", "state2": "British Columbia"}),
           hits=(("casual", "how long can my landlord hold my deposit after i move out in {state}?"),
                 ("formal", "In {state}, within what period must a landlord return a tenant's security deposit "
                            "after move-out?"),
                 ("synonym", "What's the deadline in {state} for a landlord to give back a security deposit once "
                             "the tenant leaves?"),
                 ("filler", "Moved out three weeks ago and still waiting... how long does my landlord have to "
                            "return my deposit in {state} after I move out?")),
           misses=(("entity", "How long does my landlord have to return my deposit in {state2} after I move out?"),
                   ("role", "How long do I have to pay my landlord's damage bill in {state} after I move out?"),
                   ("scope", "How much of my deposit can my landlord keep in {state} after I move out?"))),
    Family("housing.rent-increase", "Can my landlord raise the rent by more than {pct}% a year in {city}?",
           ({"pct": "5", "pct2": "15", "city": "Los Angeles", "city2": "Houston"},
            {"pct": "3", "pct2": "10", "city": "Berlin", "city2": "Munich"}),
           hits=(("casual", "is my landlord allowed to put the rent up over {pct}% a year in {city}?"),
                 ("formal", "In {city}, may a landlord increase rent by more than {pct} percent annually?"),
                 ("reorder", "In {city}, can a landlord raise rent more than {pct}% per year?")),
           misses=(("number", "Can my landlord raise the rent by more than {pct2}% a year in {city}?"),
                   ("entity", "Can my landlord raise the rent by more than {pct}% a year in {city2}?"),
                   ("date", "Can my landlord raise the rent by more than {pct}% a month in {city}?"),
                   ("antonym", "Can I ask my landlord to lower the rent by more than {pct}% a year in {city}?"))),
    Family("housing.repair-duty", "Who pays to fix a broken {thing} in a rented apartment, the tenant or the "
                                  "landlord?",
           ({"thing": "water heater", "thing2": "window the tenant broke"},
            {"thing": "refrigerator that came with the unit", "thing2": "tenant's own washing machine"}),
           hits=(("casual", "broken {thing} in my rental - do i pay or does the landlord?"),
                 ("formal", "In a rental apartment, is the tenant or the landlord responsible for repairing a "
                            "broken {thing}?"),
                 ("reorder", "The landlord or the tenant: who pays when a {thing} breaks in a rented apartment?")),
           misses=(("entity", "Who pays to fix a broken {thing2} in a rented apartment, the tenant or the "
                              "landlord?"),
                   ("scope", "Who pays to fix a broken {thing} in a house I own?"),
                   ("scope", "How quickly must a landlord fix a broken {thing} in a rented apartment?"))),
    Family("housing.room-area", "How many square {unit} is a {a} by {b} {unitsg} room?",
           ({"a": "12", "b": "15", "b2": "18", "unit": "feet", "unitsg": "foot", "unit2": "meters",
             "unitsg2": "meter"},
            {"a": "4", "b": "5", "b2": "6", "unit": "meters", "unitsg": "meter", "unit2": "feet",
             "unitsg2": "foot"}),
           hits=(("casual", "sq {unit} of a {a}x{b} {unitsg} room?"),
                 ("formal", "What is the area, in square {unit}, of a room measuring {a} by {b} {unit}?"),
                 ("reorder", "A room is {a} by {b} {unit}: how many square {unit} is that?")),
           misses=(("unit", "How many square {unit2} is a {a} by {b} {unitsg} room?"),
                   ("number", "How many square {unit} is a {a} by {b2} {unitsg} room?"),
                   ("unit", "How many square {unit} is a {a} by {b} {unitsg2} room?"),
                   ("scope", "How much paint do I need for a {a} by {b} {unitsg} room?"))),
    Family("housing.move-out-notice", "How much notice do I have to give my landlord before moving out of a "
                                      "month-to-month rental in {state}?",
           ({"state": "California", "state2": "New York"}, {"state": "Washington", "state2": "Oregon"}),
           hits=(("casual", "how much notice do i give my landlord to leave a month to month in {state}"),
                 ("formal", "What notice period must a tenant give a landlord before vacating a month-to-month "
                            "rental in {state}?"),
                 ("synonym", "In {state}, how far ahead must I tell my landlord I'm leaving a month-to-month "
                             "rental?")),
           misses=(("role", "How much notice does my landlord have to give me to move out of a month-to-month "
                            "rental in {state}?"),
                   ("entity", "How much notice do I have to give my landlord before moving out of a month-to-month "
                              "rental in {state2}?"),
                   ("scope", "How much notice do I have to give my landlord before moving out of a fixed-term "
                             "lease in {state}?"))),
)

SCENARIOS = (
    Scenario("housing.lease",
             context=(("user", "I signed a {months}-month lease on an apartment in {city}."),
                      ("assistant", "Okay, a {months}-month lease in {city}.")),
             reworded=(("user", "My apartment lease in {city} is for {months} months."),
                       ("assistant", "Understood: {city}, {months}-month lease.")),
             question="Can I break it early without paying a penalty?", entity="city", detail="months",
             fills=({"months": "12", "months2": "1", "city": "Chicago", "city2": "Amsterdam"},
                    {"months": "6", "months2": "24", "city": "Toronto", "city2": "Sydney"})),
    Scenario("housing.mortgage-offer",
             context=(("user", "The bank offered me a {kind} mortgage at {rate}%."),
                      ("assistant", "A {kind} mortgage at {rate}%, noted.")),
             reworded=(("user", "My mortgage offer from the bank: {kind}, {rate}% interest."),
                       ("assistant", "Got it, {kind} rate, {rate}%.")),
             question="Is that a good deal right now, or should I keep shopping around?", entity="kind",
             detail="rate",
             fills=({"kind": "30-year fixed", "kind2": "5/1 adjustable-rate", "rate": "6.2", "rate2": "8.9"},
                    {"kind": "two-year fixed", "kind2": "tracker", "rate": "4.1", "rate2": "1.2"})),
)

OFFERS = (
    Offer("housing.noisy-neighbour",
          ask="My upstairs neighbour plays loud music every night after midnight.",
          offer="That sounds exhausting. Would you like me to {offer}?",
          ask_reworded="Every night past midnight the neighbour above me blasts music.",
          offer_reworded="That must be tiring. Do you want me to {offer}?",
          fills=({"offer": "draft a friendly note to your neighbour", "offer2": "explain how to file a noise "
                                                                                 "complaint with the city"},
                 {"offer": "write an email to your landlord about it",
                  "offer2": "recommend good earplugs and white noise machines"})),
)
