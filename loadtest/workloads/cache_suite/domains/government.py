"""Government services: passports, taxes, licences, benefits."""

from loadtest.workloads.cache_suite.model import Family, Offer, Scenario

FAMILIES = (
    Family("government.passport-renew", "How long does it take to renew a {country} passport {how}?",
           ({"country": "US", "country2": "Canadian", "how": "by mail", "how2": "in person at an agency"},
            {"country": "UK", "country2": "Irish", "how": "online", "how2": "with the fast track service"}),
           hits=(("casual", "how long is {country} passport renewal {how} taking these days?"),
                 ("formal", "What is the current processing time for renewing a {country} passport {how}?"),
                 ("synonym", "How many weeks does a {country} passport renewal {how} take?"),
                 ("reorder", "{how}, how long does renewing a {country} passport take?")),
           misses=(("entity", "How long does it take to renew a {country2} passport {how}?"),
                   ("scope", "How long does it take to renew a {country} passport {how2}?"),
                   ("antonym", "How long does it take to get a first {country} passport {how}?"),
                   ("scope", "How long is a renewed {country} passport valid?"))),
    Family("government.tax-deadline", "What is the deadline to file {year} taxes in {place}?",
           ({"year": "2024", "year2": "2025", "place": "the US", "place2": "Canada"},
            {"year": "2023", "year2": "2021", "place": "Australia", "place2": "New Zealand"}),
           hits=(("casual", "when do i need to file my {year} taxes by in {place}"),
                 ("formal", "By what date must {year} tax returns be filed in {place}?"),
                 ("synonym", "What's the due date for {year} tax returns in {place}?"),
                 ("filler", "Ugh, taxes. What is the deadline to file {year} taxes in {place}?")),
           misses=(("date", "What is the deadline to file {year2} taxes in {place}?"),
                   ("entity", "What is the deadline to file {year} taxes in {place2}?"),
                   ("scope", "What is the deadline to file {year} taxes in {place} with an extension?"),
                   ("antonym", "When will I get my {year} tax refund in {place}?"))),
    Family("government.license-points", "How many points can I get on my driving licence in {place} before it "
                                        "is suspended?",
           ({"place": "the UK", "place2": "Ireland"}, {"place": "New York", "place2": "Florida"}),
           hits=(("casual", "how many points before i lose my licence in {place}?"),
                 ("formal", "What is the maximum number of penalty points on a driving licence in {place} before "
                            "suspension?"),
                 ("reorder", "Before my driving licence is suspended in {place}, how many points can I get?")),
           misses=(("entity", "How many points can I get on my driving licence in {place2} before it is "
                              "suspended?"),
                   ("scope", "How many points can I get on my driving licence in {place} in my first two years "
                             "before it is suspended?"),
                   ("antonym", "How long do points stay on my driving licence in {place}?"))),
    Family("government.benefit-age", "At what age can I claim {benefit} in {country}?",
           ({"benefit": "the state pension", "benefit2": "a bus pass", "country": "England",
             "country2": "Scotland"},
            {"benefit": "full Social Security retirement benefits", "benefit2": "Medicare",
             "country": "the US", "country2": "Canada"}),
           hits=(("casual", "what age can you get {benefit} in {country}"),
                 ("formal", "What is the minimum age to claim {benefit} in {country}?"),
                 ("synonym", "How old do I have to be to receive {benefit} in {country}?")),
           misses=(("entity", "At what age can I claim {benefit2} in {country}?"),
                   ("entity", "At what age can I claim {benefit} in {country2}?"),
                   ("scope", "How much will I get if I claim {benefit} early in {country}?"),
                   ("negation", "What happens if I don't claim {benefit} in {country} at that age?"))),
)

SCENARIOS = (
    Scenario("government.visa",
             context=(("user", "I'm a {nationality} citizen planning a {days}-day trip to {dest}."),
                      ("assistant", "Okay, a {days}-day visit to {dest} on a {nationality} passport.")),
             reworded=(("user", "I hold a {nationality} passport and want to visit {dest} for {days} days."),
                       ("assistant", "Got it: {nationality} citizen, {dest}, {days} days.")),
             question="Do I need to apply for a visa before I go?", entity="nationality", detail="days",
             fills=({"nationality": "Indian", "nationality2": "German", "days": "10", "days2": "200",
                     "dest": "Thailand"},
                    {"nationality": "American", "nationality2": "Nigerian", "days": "30", "days2": "120",
                     "dest": "the UK"})),
    Scenario("government.income",
             context=(("user", "I'm self-employed in {place} and earned {amt} last year."),
                      ("assistant", "Thanks: self-employed in {place}, {amt} of income last year.")),
             reworded=(("user", "Last year I made {amt} working for myself in {place}."),
                       ("assistant", "Okay, {amt} of self-employment income, {place}.")),
             question="Do I have to pay estimated tax every quarter?", entity="place", detail="amt",
             fills=({"place": "California", "place2": "Australia", "amt": "$60,000", "amt2": "$900"},
                    {"place": "Ontario", "place2": "Texas", "amt": "C$85,000", "amt2": "C$2,000"})),
)

OFFERS = (
    Offer("government.lost-passport",
          ask="I lost my passport and I fly abroad in ten days.",
          offer="That's stressful, but there are options. Would you like me to {offer}?",
          ask_reworded="My passport is lost and my international flight leaves in ten days.",
          offer_reworded="Stressful, but it's fixable. Shall I {offer}?",
          fills=({"offer": "explain how to book an urgent appointment", "offer2": "explain how to report it "
                                                                                  "stolen to the police"},
                 {"offer": "list the documents you'll need for a replacement",
                  "offer2": "check if you can travel on an emergency travel document"})),
)
