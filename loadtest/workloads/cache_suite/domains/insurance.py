"""Insurance: car, home, travel and health cover."""

from loadtest.workloads.cache_suite.model import Family, Offer, Scenario

FAMILIES = (
    Family("insurance.deductible", "If I have a ${d} deductible and the repair costs ${c}, how much do I pay?",
           ({"d": "500", "d2": "1,000", "c": "2,300", "c2": "400"}, {"d": "250", "d2": "2,500", "c": "900",
                                                                     "c2": "5,000"}),
           hits=(("casual", "${d} deductible, ${c} repair - what do i end up paying?"),
                 ("formal", "With a ${d} deductible and a repair bill of ${c}, what is my out-of-pocket cost?"),
                 ("reorder", "The repair costs ${c} and my deductible is ${d}: how much do I pay?")),
           misses=(("number", "If I have a ${d2} deductible and the repair costs ${c}, how much do I pay?"),
                   ("number", "If I have a ${d} deductible and the repair costs ${c2}, how much do I pay?"),
                   ("role", "If I have a ${d} deductible and the repair costs ${c}, how much does the insurer "
                            "pay?"))),
    Family("insurance.rental-car", "Does my {insurer} auto policy cover a rental car in {place}?",
           ({"insurer": "Geico", "insurer2": "Progressive", "place": "Canada", "place2": "Italy"},
            {"insurer": "State Farm", "insurer2": "Allstate", "place": "Hawaii", "place2": "Mexico"}),
           hits=(("casual", "am i covered by {insurer} if i rent a car in {place}?"),
                 ("formal", "Would my {insurer} automobile policy extend to a rental vehicle in {place}?"),
                 ("synonym", "Is a rental car in {place} covered under my {insurer} car insurance?"),
                 ("filler", "Heading out on vacation next week. Does my {insurer} auto policy cover a rental car "
                            "in {place}?")),
           misses=(("entity", "Does my {insurer2} auto policy cover a rental car in {place}?"),
                   ("entity", "Does my {insurer} auto policy cover a rental car in {place2}?"),
                   ("scope", "Does my {insurer} auto policy cover a rental truck in {place}?"),
                   ("negation", "What does my {insurer} auto policy not cover on a rental car in {place}?"))),
    Family("insurance.claim-window", "How many days do I have to file a claim after {event}?",
           ({"event": "a car accident", "event2": "a break-in at home"},
            {"event": "a trip gets cancelled", "event2": "a hospital stay"}),
           hits=(("casual", "whats the deadline to file a claim after {event}"),
                 ("formal", "Within how many days must a claim be submitted following {event}?"),
                 ("synonym", "How long after {event} can I still put in a claim?")),
           misses=(("entity", "How many days do I have to file a claim after {event2}?"),
                   ("antonym", "How many days does the insurer have to pay a claim after {event}?"),
                   ("scope", "How many days do I have to appeal a denied claim after {event}?"))),
    Family("insurance.add-driver", "Will my premium go up if I add my {age}-year-old {who} to my car insurance?",
           ({"age": "16", "age2": "45", "who": "son", "who2": "wife"},
            {"age": "70", "age2": "30", "who": "father", "who2": "roommate"}),
           hits=(("casual", "adding my {age} yo {who} to my car insurance - will my premium go up?"),
                 ("formal", "Would adding my {who}, aged {age}, to my auto policy increase my premium?"),
                 ("synonym", "Does my car insurance get more expensive if I put my {age}-year-old {who} on it?"),
                 ("reorder", "If I add my {who} ({age} years old) to my car insurance, will the premium rise?")),
           misses=(("number", "Will my premium go up if I add my {age2}-year-old {who} to my car insurance?"),
                   ("entity", "Will my premium go up if I add my {age}-year-old {who2} to my car insurance?"),
                   ("antonym", "Will my premium go down if I remove my {age}-year-old {who} from my car "
                               "insurance?"),
                   ("scope", "Will my premium go up if I add my {age}-year-old {who} to my home insurance?"))),
    Family("insurance.standard-cover", "Does standard {kind} insurance cover {peril}?",
           ({"kind": "homeowners", "peril": "flood damage", "peril2": "fire damage"},
            {"kind": "car", "peril": "theft of items left inside", "peril2": "hail damage"}),
           hits=(("casual", "is {peril} covered by normal {kind} insurance?"),
                 ("formal", "Is {peril} covered under a standard {kind} insurance policy?"),
                 ("synonym", "Will a regular {kind} insurance policy pay for {peril}?")),
           misses=(("entity", "Does standard {kind} insurance cover {peril2}?"),
                   ("negation", "What does standard {kind} insurance not cover besides {peril}?"),
                   ("scope", "How much does it cost to add cover for {peril} to {kind} insurance?"),
                   ("role", "Does my neighbour's {kind} insurance cover {peril} they cause to my property?"))),
    Family("insurance.rear-ended", "If another driver rear-ends me at a red light, whose insurance pays for my "
                                   "repairs?",
           ({},),
           hits=(("casual", "someone rear-ended me at a red light, whose insurance covers my repairs?"),
                 ("formal", "When my vehicle is struck from behind by another driver at a red light, which insurer "
                            "pays for my repairs?"),
                 ("synonym", "Whose insurance covers fixing my car if another driver hits me from behind at a red "
                             "light?"),
                 ("reorder", "At a red light, another driver rear-ends me: whose insurance pays to fix my car?")),
           misses=(("role", "If I rear-end another driver at a red light, whose insurance pays for my repairs?"),
                   ("role", "If another driver rear-ends me at a red light, whose insurance pays for their "
                            "repairs?"),
                   ("scope", "If an uninsured driver rear-ends me at a red light, whose insurance pays for my "
                             "repairs?"))),
)

SCENARIOS = (
    Scenario("insurance.travel-policy",
             context=(("user", "I bought {insurer}'s {tier} travel insurance for my trip."),
                      ("assistant", "Good - {insurer}'s {tier} travel policy.")),
             reworded=(("user", "For this trip I'm covered by the {tier} travel plan from {insurer}."),
                       ("assistant", "Okay, {insurer} {tier} travel cover.")),
             question="Does it pay out if my luggage is delayed by 12 hours?", entity="insurer", detail="tier",
             fills=({"insurer": "Allianz", "insurer2": "World Nomads", "tier": "basic", "tier2": "premium"},
                    {"insurer": "AXA", "insurer2": "Travel Guard", "tier": "silver", "tier2": "platinum"})),
    Scenario("insurance.home-value",
             context=(("user", "My home in {state} is insured for ${amt}."),
                      ("assistant", "Okay, a home in {state} with ${amt} of dwelling coverage.")),
             reworded=(("user", "I've got ${amt} of coverage on my house, which is in {state}."),
                       ("assistant", "Understood: ${amt} dwelling coverage, home in {state}.")),
             question="Is that enough to rebuild after a total loss?", entity="state", detail="amt",
             fills=({"state": "California", "state2": "Ohio", "amt": "300,000", "amt2": "900,000"},
                    {"state": "Florida", "state2": "Maine", "amt": "450,000", "amt2": "150,000"})),
)

OFFERS = (
    Offer("insurance.windshield",
          ask="A rock cracked my windshield on the highway this morning.",
          offer="Sorry to hear that. Your policy has glass coverage. Would you like me to {offer}?",
          ask_reworded="This morning on the highway a stone hit my windshield and cracked it.",
          offer_reworded="That's frustrating. You do have glass coverage. Shall I {offer}?",
          fills=({"offer": "schedule a mobile repair at your home", "offer2": "start a full replacement claim"},
                 {"offer": "find an approved repair shop near you",
                  "offer2": "explain how the glass deductible works"})),
)
