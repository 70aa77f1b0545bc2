"""Fitness: gym memberships, workouts, running, training. Single-turn only (the `fresh` split)."""

from loadtest.workloads.cache_suite.model import Family

FAMILIES = (
    Family("fitness.pace-convert", "If I run {p} minutes per mile, what is my pace in minutes per kilometer?",
           ({"p": "8", "p2": "10"}, {"p": "9:30", "p2": "7:30"}),
           hits=(("casual", "{p} min/mile in min/km?"),
                 ("formal", "Could you convert a running pace of {p} minutes per mile into minutes per kilometre?"),
                 ("reorder", "What is my pace in minutes per kilometer if I run {p} minutes per mile?"),
                 ("synonym", "If I'm running {p}-minute miles, what's that per kilometer?")),
           misses=(("number", "If I run {p2} minutes per mile, what is my pace in minutes per kilometer?"),
                   ("direction", "If I run {p} minutes per kilometer, what is my pace in minutes per mile?"),
                   ("unit", "If I run {p} minutes per mile, what is my speed in kilometers per hour?"))),
    Family("fitness.cancel-membership", "How do I cancel my {gym} membership?",
           ({"gym": "Planet Fitness", "gym2": "Crunch Fitness"}, {"gym": "LA Fitness", "gym2": "Gold's Gym"}),
           hits=(("casual", "how do i cancel my gym membership at {gym}"),
                 ("formal", "What is the procedure for cancelling my {gym} membership?"),
                 ("synonym", "How can I end my {gym} membership?"),
                 ("filler", "Honestly I never go anymore, so how do I cancel my {gym} membership?")),
           misses=(("entity", "How do I cancel my {gym2} membership?"),
                   ("antonym", "How do I reactivate my {gym} membership?"),
                   ("quantity", "How do I cancel just one person's membership on my {gym} family plan?"),
                   ("scope", "How do I cancel my {gym} membership if I signed up through my health insurance's "
                             "fitness program?"))),
    Family("fitness.calories-run", "How many calories does a {w} pound person burn running {d} miles?",
           ({"w": "150", "w2": "200", "d": "3", "d2": "6"}, {"w": "180", "w2": "130", "d": "5", "d2": "2"}),
           hits=(("casual", "calories burned running {d} miles at {w} lbs?"),
                 ("formal", "Approximately how many calories would a person weighing {w} pounds expend by running "
                            "{d} miles?"),
                 ("synonym", "If I weigh {w} lbs, how many calories do I burn off on a {d}-mile run?"),
                 ("reorder", "Running {d} miles, how many calories does a {w} pound person burn?")),
           misses=(("number", "How many calories does a {w2} pound person burn running {d} miles?"),
                   ("number", "How many calories does a {w} pound person burn running {d2} miles?"),
                   ("unit", "How many calories does a {w} kilogram person burn running {d} miles?"),
                   ("unit", "How many calories does a {w} pound person burn running {d} kilometers?"),
                   ("entity", "How many calories does a {w} pound person burn cycling {d} miles?"))),
    Family("fitness.off-peak", "My gym's off-peak pass covers 10 am to 4 pm on weekdays. Can I go in at {t} on a "
                               "Tuesday?",
           ({"t": "2 pm", "t24": "14:00", "t2": "2 am", "t2_24": "02:00"},
            {"t": "11:30 am", "t24": "11:30", "t2": "11:30 pm", "t2_24": "23:30"}),
           hits=(("casual", "off-peak pass is 10am-4pm weekdays, can i go at {t} on tuesday?"),
                 ("formal", "If my off-peak gym pass is valid from 10:00 to 16:00 on weekdays, may I use the gym at "
                            "{t24} on a Tuesday?"),
                 ("reorder", "Can I go in at {t} on a Tuesday if my gym's off-peak pass covers 10 am to 4 pm on "
                             "weekdays?")),
           misses=(("time", "My gym's off-peak pass covers 10 am to 4 pm on weekdays. Can I go in at {t2} on a "
                            "Tuesday?"),
                   ("time", "With an off-peak pass that covers 10:00 to 16:00 on weekdays, can I work out at {t2_24} "
                            "on a Tuesday?"),
                   ("scope", "My gym's off-peak pass covers 10 am to 4 pm on weekdays. Can I go in at {t} on a "
                             "Saturday?"),
                   ("negation", "My gym's off-peak pass covers 10 am to 4 pm on weekdays. Which hours can't I go in "
                                "on a Tuesday?"))),
    Family("fitness.protein", "How much protein should I eat a day to build muscle if I weigh {w} kg?",
           ({"w": "70", "w2": "90", "lb": "154"}, {"w": "85", "w2": "60", "lb": "187"}),
           hits=(("casual", "daily protein to build muscle at {w}kg?"),
                 ("formal", "What daily protein intake is recommended for building muscle at a body weight of {w} "
                            "kilograms?"),
                 ("reorder", "If I weigh {w} kg, how much protein should I eat a day to build muscle?"),
                 ("unit_equivalent", "How much protein a day should I eat to build muscle at {lb} pounds?")),
           misses=(("number", "How much protein should I eat a day to build muscle if I weigh {w2} kg?"),
                   ("unit", "How much protein should I eat a day to build muscle if I weigh {w} pounds?"),
                   ("scope", "How much protein should I eat per meal to build muscle if I weigh {w} kg?"),
                   ("entity", "How much creatine should I take a day to build muscle if I weigh {w} kg?"))),
    Family("fitness.guest-pass", "Can I bring a guest to {gym} with a {tier} membership?",
           ({"gym": "Planet Fitness", "tier": "Black Card", "tier2": "Classic"},
            {"gym": "Crunch Fitness", "tier": "Peak", "tier2": "Base"}),
           hits=(("casual", "can i bring a friend to {gym} on the {tier} plan?"),
                 ("formal", "Does a {tier} membership at {gym} allow me to bring a guest?"),
                 ("reorder", "With a {tier} membership, can I bring a guest to {gym}?"),
                 ("filler", "My sister's visiting this weekend - can I bring a guest to {gym} with a {tier} "
                            "membership?")),
           misses=(("entity", "Can I bring a guest to {gym} with a {tier2} membership?"),
                   ("negation", "Can I bring a guest to {gym} if I don't have a {tier} membership?"),
                   ("quantity", "Can I bring three guests at once to {gym} with a {tier} membership?"))),
    Family("fitness.train-weeks", "How many weeks does it take to train for a {race} from scratch?",
           ({"race": "5K", "race2": "half marathon", "urace": "5-mile race"},
            {"race": "10K", "race2": "marathon", "urace": "10-mile race"}),
           hits=(("casual", "couch to {race}, how many weeks?"),
                 ("formal", "How long does it typically take a complete beginner to prepare for a {race}?"),
                 ("synonym", "As a total beginner, how many weeks do I need to get ready for a {race}?"),
                 ("filler", "haven't run since high school lol - how many weeks does it take to train for a {race} "
                            "from scratch?")),
           misses=(("entity", "How many weeks does it take to train for a {race2} from scratch?"),
                   ("unit", "How many weeks does it take to train for a {urace} from scratch?"),
                   ("scope", "How many weeks does it take to train for a {race} if I already run 20 miles a week?"))),
)

# Single-turn only: the multi-turn generator skips the `fresh` split.
SCENARIOS = ()
OFFERS = ()
