"""Utilities: electricity, water, gas, meters and bills."""

from loadtest.workloads.cache_suite.model import Family, Offer, Scenario

FAMILIES = (
    Family("utilities.kwh-cost", "How much does it cost to run a {w} watt {device} for {h} hours at {rate} cents "
                                 "per kWh?",
           ({"w": "1,500", "w2": "150", "device": "space heater", "h": "8", "h2": "80", "rate": "15"},
            {"w": "60", "w2": "600", "device": "light bulb", "h": "24", "h2": "2", "rate": "30"}),
           hits=(("casual", "cost to run a {w}W {device} {h} hrs at {rate}c/kWh?"),
                 ("formal", "What is the electricity cost of operating a {w}-watt {device} for {h} hours at a "
                            "rate of {rate} cents per kilowatt-hour?"),
                 ("reorder", "At {rate} cents per kWh, what does {h} hours of a {w} watt {device} cost?")),
           misses=(("number", "How much does it cost to run a {w2} watt {device} for {h} hours at {rate} cents "
                              "per kWh?"),
                   ("number", "How much does it cost to run a {w} watt {device} for {h2} hours at {rate} cents "
                              "per kWh?"),
                   ("unit", "How much does it cost to run a {w} kilowatt {device} for {h} hours at {rate} cents "
                            "per kWh?"),
                   ("currency", "How much does it cost to run a {w} watt {device} for {h} hours at {rate} pence "
                                "per kWh?"))),
    Family("utilities.start-service", "How do I {verb} electricity service when I {move} my apartment?",
           ({"verb": "start", "move": "move into", "verb2": "stop", "move2": "move out of"},),
           hits=(("casual", "how do i get the power turned on when i {move} my apartment"),
                 ("formal", "What is the process to {verb} electric service upon the day I {move} my apartment?"),
                 ("synonym", "How do I set up electricity when I {move} my flat?"),
                 ("reorder", "When I {move} my apartment, how do I {verb} the electricity service?")),
           misses=(("antonym", "How do I {verb2} electricity service when I {move2} my apartment?"),
                   ("entity", "How do I {verb} gas service when I {move} my apartment?"),
                   ("scope", "How do I {verb} electricity service for a business when I {move} my office?"))),
    Family("utilities.water-bill", "Why is my water bill higher in {season} than in {other}?",
           ({"season": "summer", "other": "winter"}, {"season": "January", "other": "June"}),
           hits=(("casual", "how come my water bill goes up in {season} compared to {other}?"),
                 ("formal", "What explains a higher water bill in {season} than in {other}?"),
                 ("filler", "Honestly confused - why is my water bill higher in {season} than in {other}?")),
           misses=(("direction", "Why is my water bill higher in {other} than in {season}?"),
                   ("entity", "Why is my electricity bill higher in {season} than in {other}?"),
                   ("antonym", "Why is my water bill lower in {season} than in {other}?"))),
    Family("utilities.outage-report", "How do I report a {what} outage to {company}?",
           ({"what": "power", "what2": "gas", "company": "PG&E", "company2": "Con Edison"},
            {"what": "water", "what2": "internet", "company": "Thames Water", "company2": "Severn Trent"}),
           hits=(("casual", "{what} is out, how do i tell {company}?"),
                 ("formal", "What is the procedure for reporting a {what} outage to {company}?"),
                 ("synonym", "How can I let {company} know there's a {what} outage?"),
                 ("near_repeat", "How can I report a {what} outage to {company}?")),
           misses=(("entity", "How do I report a {what} outage to {company2}?"),
                   ("entity", "How do I report a {what2} outage to {company}?"),
                   ("scope", "How do I check if a {what} outage has been reported to {company}?"),
                   ("scope", "How do I claim compensation from {company} after a {what} outage?"))),
    Family("utilities.late-bill", "What happens if I pay my {utility} bill {d} days late?",
           ({"utility": "electricity", "utility2": "water", "d": "5", "d2": "60"},
            {"utility": "gas", "utility2": "internet", "d": "10", "d2": "90"}),
           hits=(("casual", "paying my {utility} bill {d} days late - what happens?"),
                 ("formal", "What are the consequences of paying my {utility} bill {d} days after the due date?"),
                 ("synonym", "What's the penalty if my {utility} bill is paid {d} days late?")),
           misses=(("number", "What happens if I pay my {utility} bill {d2} days late?"),
                   ("entity", "What happens if I pay my {utility2} bill {d} days late?"),
                   ("antonym", "What happens if I pay my {utility} bill {d} days early?"),
                   ("negation", "What happens if I don't pay my {utility} bill at all?"))),
)

SCENARIOS = (
    Scenario("utilities.tariff",
             context=(("user", "I'm on {supplier}'s {tariff} tariff."),
                      ("assistant", "Thanks, you're on the {tariff} tariff from {supplier}.")),
             reworded=(("user", "My energy plan is {supplier} {tariff}."),
                       ("assistant", "Okay, {supplier}'s {tariff} plan.")),
             question="Is it cheaper to run my dishwasher at night?", entity="supplier", detail="tariff",
             fills=({"supplier": "Octopus", "supplier2": "British Gas", "tariff": "Agile", "tariff2": "Fixed 12M"},
                    {"supplier": "Duke Energy", "supplier2": "Xcel Energy", "tariff": "time-of-use",
                     "tariff2": "flat rate"})),
    Scenario("utilities.meter",
             context=(("user", "My {meter} meter reading went from {r1} to {r2} this month."),
                      ("assistant", "So the {meter} meter moved from {r1} to {r2} over the month.")),
             reworded=(("user", "This month the {meter} meter went up to {r2}; it was {r1} before."),
                       ("assistant", "Okay, {r1} at the start, {r2} now, on the {meter} meter.")),
             question="Is that usage normal for a two-bedroom home?", entity="meter", detail="r2",
             fills=({"meter": "electricity", "meter2": "water", "r1": "40,120", "r2": "40,480", "r22": "42,900"},
                    {"meter": "gas", "meter2": "electricity", "r1": "3,210", "r2": "3,260", "r22": "3,900"})),
)

OFFERS = (
    Offer("utilities.high-estimate",
          ask="My electricity bill was estimated and it's far too high.",
          offer="Estimated bills can be off. Would you like me to {offer}?",
          ask_reworded="I got an estimated power bill that's way higher than it should be.",
          offer_reworded="Estimates are sometimes wrong. Shall I {offer}?",
          fills=({"offer": "take a meter reading from you now and re-bill",
                  "offer2": "set up a payment plan for the balance"},
                 {"offer": "book a technician to read the meter", "offer2": "switch you to paperless billing"})),
)
