"""Education: admissions, grades, student loans, courses."""

from loadtest.workloads.cache_suite.model import Family, Offer, Scenario

FAMILIES = (
    Family("education.gpa-convert", "What GPA on a {scale}-point scale equals an average of {pct}%?",
           ({"pct": "85", "pct2": "65", "scale": "4.0", "scale2": "5.0"},
            {"pct": "92", "pct2": "72", "scale": "4.0", "scale2": "10"}),
           hits=(("casual", "{pct}% average = what GPA on a {scale} scale?"),
                 ("formal", "How does an average of {pct} percent convert to a GPA on a {scale} scale?"),
                 ("reorder", "An average of {pct}%: what GPA is that on a {scale}-point scale?")),
           misses=(("number", "What GPA on a {scale}-point scale equals an average of {pct2}%?"),
                   ("number", "What GPA on a {scale2}-point scale equals an average of {pct}%?"),
                   ("direction", "What percentage average equals a GPA of {scale} on a {scale}-point scale?"))),
    Family("education.application-deadline", "When is the {round} application deadline for {school}?",
           ({"round": "early decision", "round2": "regular decision", "school": "Duke", "school2": "Cornell"},
            {"round": "UCAS", "round2": "clearing", "school": "the University of Edinburgh",
             "school2": "the University of Manchester"}),
           hits=(("casual", "whens the {round} deadline for {school}?"),
                 ("formal", "What is the deadline for {round} applications to {school}?"),
                 ("synonym", "By what date do I need to apply to {school} for {round}?"),
                 ("filler", "Hi! Applying to college this year. When is the {round} application deadline for "
                            "{school}?")),
           misses=(("entity", "When is the {round} application deadline for {school2}?"),
                   ("scope", "When is the {round2} application deadline for {school}?"),
                   ("antonym", "When are {round} results released for {school}?"))),
    Family("education.loan-repay", "When do I have to start repaying my {loan} loans after I {event}?",
           ({"loan": "federal student", "loan2": "private student", "event": "graduate",
             "event2": "drop below half-time"},),
           hits=(("casual", "when do {loan} loan payments start after i {event}"),
                 ("formal", "How long after I {event} must I begin repayment of my {loan} loans?"),
                 ("reorder", "After I {event}, when must I start paying back my {loan} loans?"),
                 ("synonym", "Once I {event}, when do my {loan} loan repayments kick in?")),
           misses=(("entity", "When do I have to start repaying my {loan2} loans after I {event}?"),
                   ("scope", "When do I have to start repaying my {loan} loans after I {event2}?"),
                   ("antonym", "When will my {loan} loans be forgiven after I {event}?"),
                   ("scope", "How much do I have to repay each month on my {loan} loans after I {event}?"))),
    Family("education.tuition-credit", "How much is tuition per credit hour at {college} for {res} students?",
           ({"college": "Austin Community College", "college2": "Houston Community College", "res": "in-district",
             "res2": "out-of-state"},
            {"college": "Arizona State University", "college2": "the University of Arizona", "res": "in-state",
             "res2": "international"}),
           hits=(("casual", "whats the per credit tuition at {college} for {res} students"),
                 ("formal", "What is the tuition rate per credit hour at {college} for {res} students?"),
                 ("synonym", "How much do {res} students pay for each credit hour at {college}?")),
           misses=(("entity", "How much is tuition per credit hour at {college2} for {res} students?"),
                   ("scope", "How much is tuition per credit hour at {college} for {res2} students?"),
                   ("quantity", "How much is tuition for a full 15-credit semester at {college} for {res} "
                                "students?"))),
    Family("education.final-needed", "What do I need on the final to finish with at least {target} if my grade is "
                                     "{cur} now and the final is worth {w}%?",
           ({"target": "90", "target2": "80", "cur": "84", "cur2": "74", "w": "30", "w2": "50"},
            {"target": "70", "target2": "60", "cur": "81", "cur2": "88", "w": "40", "w2": "20"}),
           hits=(("casual", "grade is {cur} going into a final worth {w}% - what do i need to end with at least "
                            "{target}?"),
                 ("formal", "If my current grade is {cur} and the final counts for {w}%, what exam score do I need "
                            "for a final grade of at least {target}?"),
                 ("reorder", "The final is worth {w}% and my grade is {cur}: what score gets me at least {target} "
                             "overall?")),
           misses=(("number", "What do I need on the final to finish with at least {target2} if my grade is {cur} "
                              "now and the final is worth {w}%?"),
                   ("number", "What do I need on the final to finish with at least {target} if my grade is {cur2} "
                              "now and the final is worth {w}%?"),
                   ("number", "What do I need on the final to finish with at least {target} if my grade is {cur} "
                              "now and the final is worth {w2}%?"),
                   ("direction", "If my grade is {cur} now and I score {target} on a final worth {w}%, what is my "
                                 "final grade?"))),
    Family("education.credit-transfer", "How do I transfer my credits from {a} to {b}?",
           ({"a": "a community college", "b": "a four-year university"},
            {"a": "the University of Toronto", "b": "McGill"}),
           hits=(("casual", "how do credits transfer from {a} to {b}?"),
                 ("formal", "What is the process for transferring my academic credits from {a} to {b}?"),
                 ("synonym", "How can I move my course credits from {a} over to {b}?")),
           misses=(("direction", "How do I transfer my credits from {b} to {a}?"),
                   ("entity", "How do I transfer my scholarship from {a} to {b}?"),
                   ("negation", "Why won't {b} accept my credits from {a}?"))),
)

SCENARIOS = (
    Scenario("education.enrolled",
             context=(("user", "I'm a {year} student at {school}."),
                      ("assistant", "Great, a {year} at {school}.")),
             reworded=(("user", "I study at {school}; I'm in my {year} year."),
                       ("assistant", "Okay, {school}, {year} year.")),
             question="What's the last day I can drop a class without a W on my transcript?", entity="school",
             detail="year",
             fills=({"year": "freshman", "year2": "graduate", "school": "UCLA", "school2": "Ohio State"},
                    {"year": "sophomore", "year2": "PhD", "school": "Boston University", "school2": "Rutgers"})),
    Scenario("education.exam",
             context=(("user", "I'm taking the {exam} in {weeks} weeks."),
                      ("assistant", "The {exam} in {weeks} weeks - you've got this.")),
             reworded=(("user", "My {exam} is {weeks} weeks away."),
                       ("assistant", "{weeks} weeks until the {exam}, okay.")),
             question="How many hours a day should I study to be ready?", entity="exam", detail="weeks",
             fills=({"exam": "LSAT", "exam2": "driving theory test", "weeks": "2", "weeks2": "20"},
                    {"exam": "GRE", "exam2": "bar exam", "weeks": "12", "weeks2": "1"})),
)

OFFERS = (
    Offer("education.failed-midterm",
          ask="I failed my chemistry midterm and the final is in a month.",
          offer="Don't panic, a month is enough to turn it around. Would you like me to {offer}?",
          ask_reworded="My chemistry midterm was a fail, and I have a month until the final.",
          offer_reworded="A month is plenty of time to recover. Shall I {offer}?",
          fills=({"offer": "make you a four-week study plan", "offer2": "explain how to ask for a grade review"},
                 {"offer": "go over stoichiometry step by step", "offer2": "find chemistry tutors on campus"})),
)
