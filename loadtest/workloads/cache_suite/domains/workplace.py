"""Workplace: leave, payroll, meetings, expenses."""

from loadtest.workloads.cache_suite.model import Family, Offer, Scenario

FAMILIES = (
    Family("workplace.pto-accrual", "How many vacation days do I accrue per month if I get {n} days a year?",
           ({"n": "20", "n2": "25"}, {"n": "15", "n2": "30"}),
           hits=(("casual", "{n} vacation days a year - how many is that per month?"),
                 ("formal", "With an annual allowance of {n} vacation days, how many days accrue each month?"),
                 ("reorder", "If I get {n} days of vacation a year, how many do I accrue per month?")),
           misses=(("number", "How many vacation days do I accrue per month if I get {n2} days a year?"),
                   ("date", "How many vacation days do I accrue per week if I get {n} days a year?"),
                   ("scope", "How many vacation days can I carry over if I get {n} days a year?"))),
    Family("workplace.meeting-time", "What time is a {t} {zone} meeting in {zone2}?",
           ({"t": "3 pm", "t24": "15:00", "tx": "3 am", "zone": "New York time", "zone2": "London",
             "zone3": "Tokyo"},
            {"t": "9:30 am", "t24": "09:30", "tx": "9:30 pm", "zone": "Berlin time", "zone2": "San Francisco",
             "zone3": "Sydney"}),
           hits=(("casual", "{t} {zone} meeting - what time's that in {zone2}?"),
                 ("formal", "If a meeting is scheduled for {t24} {zone}, what time will it be in {zone2}?"),
                 ("reorder", "In {zone2}, what time is a meeting set for {t} {zone}?")),
           misses=(("time", "What time is a {tx} {zone} meeting in {zone2}?"),
                   ("entity", "What time is a {t} {zone} meeting in {zone3}?"),
                   ("direction", "What time is a {t} meeting in {zone2} in {zone}?"))),
    Family("workplace.expense-limit", "What is the daily meal allowance for business trips to {place}?",
           ({"place": "Chicago", "place2": "Singapore"}, {"place": "Paris", "place2": "Lagos"}),
           hits=(("casual", "whats the per diem for food on work trips to {place}"),
                 ("formal", "What daily amount may be claimed for meals on business travel to {place}?"),
                 ("synonym", "How much can I expense for meals per day on a business trip to {place}?"),
                 ("filler", "First work trip, a bit nervous! What is the daily meal allowance for business trips "
                            "to {place}?")),
           misses=(("entity", "What is the daily meal allowance for business trips to {place2}?"),
                   ("entity", "What is the nightly hotel allowance for business trips to {place}?"),
                   ("scope", "Is alcohol included in the daily meal allowance for business trips to {place}?"))),
    Family("workplace.notice-period", "How much notice do I have to give if I resign {when} my probation?",
           ({"when": "during", "when2": "after"},),
           hits=(("casual", "how much notice is needed if i quit {when} probation"),
                 ("formal", "What notice period applies if I hand in my resignation {when} my probationary "
                            "period?"),
                 ("synonym", "If I quit {when} my probation, how much notice must I give?"),
                 ("reorder", "{when} my probation, if I resign, how much notice do I have to give?")),
           misses=(("scope", "How much notice do I have to give if I resign {when2} my probation?"),
                   ("role", "How much notice does my employer have to give if they let me go {when} my "
                            "probation?"),
                   ("antonym", "How much notice do I have to give if I extend my probation?"))),
    Family("workplace.overtime-pay", "How much do I get paid for {h} hours of overtime at ${rate} an hour at time "
                                     "and a half?",
           ({"h": "6", "h2": "16", "rate": "22", "rate2": "32"}, {"h": "10", "h2": "4", "rate": "18.50",
                                                                  "rate2": "45"}),
           hits=(("casual", "{h} hrs overtime at ${rate}/hr, time and a half - how much?"),
                 ("formal", "What is the pay for {h} overtime hours at time and a half on a base rate of ${rate} "
                            "per hour?"),
                 ("reorder", "At ${rate} an hour with time and a half, what do {h} overtime hours pay?")),
           misses=(("number", "How much do I get paid for {h2} hours of overtime at ${rate} an hour at time and a "
                              "half?"),
                   ("number", "How much do I get paid for {h} hours of overtime at ${rate2} an hour at time and a "
                              "half?"),
                   ("scope", "How much do I get paid for {h} hours of overtime at ${rate} an hour at double time?"),
                   ("currency", "How much do I get paid for {h} hours of overtime at £{rate} an hour at time and a "
                                "half?"))),
    Family("workplace.night-premium", "Do I get the night shift premium for a shift from {s} to {e}?",
           ({"s": "10 pm", "e": "6 am", "s24": "22:00", "e24": "06:00", "sx": "10 am", "ex": "6 pm"},),
           hits=(("casual", "working {s} to {e} - do i get night shift pay?"),
                 ("formal", "Does a shift from {s24} to {e24} qualify for the night shift premium?"),
                 ("reorder", "For a shift running {s} to {e}, do I get the night premium?")),
           misses=(("time", "Do I get the night shift premium for a shift from {sx} to {ex}?"),
                   ("direction", "Do I get the night shift premium for a shift from {e} to {s}?"),
                   ("negation", "Why didn't I get the night shift premium for my shift from {s} to {e}?"),
                   ("scope", "Do I get the night shift premium for a shift from {s} to {e} on a public holiday?"))),
)

SCENARIOS = (
    Scenario("workplace.contract",
             context=(("user", "I work {hours} hours a week on a {contract} contract in {country}."),
                      ("assistant", "Okay: {hours} hours a week, {contract} contract, based in {country}.")),
             reworded=(("user", "My contract is {contract}, {hours} hours weekly, and I'm in {country}."),
                       ("assistant", "Understood, a {contract} contract for {hours} hours a week in {country}.")),
             question="How many days of paid leave am I entitled to?", entity="country", detail="hours",
             fills=({"hours": "20", "hours2": "40", "contract": "permanent", "country": "the UK",
                     "country2": "Germany"},
                    {"hours": "37.5", "hours2": "16", "contract": "fixed-term", "country": "Ireland",
                     "country2": "France"})),
    Scenario("workplace.salary",
             context=(("user", "My gross salary is {amt} a year and I live in {place}."),
                      ("assistant", "Got it, {amt} gross per year, living in {place}.")),
             reworded=(("user", "I live in {place} and earn {amt} a year before tax."),
                       ("assistant", "So {amt} pre-tax annually in {place}.")),
             question="Roughly what will my monthly take-home pay be?", entity="place", detail="amt",
             fills=({"amt": "$85,000", "amt2": "$45,000", "place": "Texas", "place2": "New York City"},
                    {"amt": "£38,000", "amt2": "£120,000", "place": "England", "place2": "Scotland"})),
)

OFFERS = (
    Offer("workplace.conflict",
          ask="My manager keeps scheduling meetings during my lunch break.",
          offer="That's frustrating. Would you like me to {offer}?",
          ask_reworded="Meetings keep getting booked over my lunch break by my manager.",
          offer_reworded="I can see why that's annoying. Do you want me to {offer}?",
          fills=({"offer": "draft a polite message to your manager", "offer2": "explain your rights to breaks"},
                 {"offer": "suggest how to block lunch in your calendar",
                  "offer2": "outline how to raise it with HR"})),
)
