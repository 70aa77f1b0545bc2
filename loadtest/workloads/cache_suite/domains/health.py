"""Health services: appointments, pharmacies, clinics, insurance cards."""

from loadtest.workloads.cache_suite.model import Family, Offer, Scenario

FAMILIES = (
    Family("health.pharmacy-hours", "Is the {chain} pharmacy on {street} open at {t} on Sundays?",
           ({"chain": "CVS", "chain2": "Walgreens", "street": "Main Street", "t": "8 am", "t24": "08:00",
             "t2": "8 pm", "t2_24": "20:00"},
            {"chain": "Boots", "chain2": "Superdrug", "street": "High Street", "t": "10 pm", "t24": "22:00",
             "t2": "10 am", "t2_24": "10:00"}),
           hits=(("casual", "is {chain} on {street} open {t} on a sunday?"),
                 ("formal", "Could you tell me whether the {chain} pharmacy on {street} is open at {t24} on "
                            "Sundays?"),
                 ("reorder", "On Sundays at {t}, is the {chain} pharmacy on {street} open?")),
           misses=(("time", "Is the {chain} pharmacy on {street} open at {t2} on Sundays?"),
                   ("time", "Is the {chain} pharmacy on {street} open at {t2_24} on Sundays?"),
                   ("entity", "Is the {chain2} pharmacy on {street} open at {t} on Sundays?"),
                   ("date", "Is the {chain} pharmacy on {street} open at {t} on Saturdays?"),
                   ("antonym", "Does the {chain} pharmacy on {street} close at {t} on Sundays?"))),
    Family("health.referral", "Do I need a referral to see a {specialist} with a {plan} plan?",
           ({"specialist": "dermatologist", "specialist2": "physical therapist", "plan": "PPO", "plan2": "HMO"},
            {"specialist": "cardiologist", "specialist2": "chiropractor", "plan": "HMO", "plan2": "PPO"}),
           hits=(("casual", "{plan} plan - do i need a referral for a {specialist}?"),
                 ("formal", "Is a referral required to consult a {specialist} under a {plan} health plan?"),
                 ("synonym", "With a {plan} plan, do I have to get a referral before seeing a {specialist}?"),
                 ("filler", "Hi, sorry, probably a silly one: do I need a referral to see a {specialist} with a "
                            "{plan} plan?")),
           misses=(("entity", "Do I need a referral to see a {specialist} with a {plan2} plan?"),
                   ("entity", "Do I need a referral to see a {specialist2} with a {plan} plan?"),
                   ("scope", "Do I need a referral to see an out-of-network {specialist} with a {plan} plan?"))),
    Family("health.fasting", "How many hours should I fast before a {test}?",
           ({"test": "cholesterol blood test", "test2": "colonoscopy"},
            {"test": "glucose tolerance test", "test2": "MRI scan"}),
           hits=(("casual", "how long do i have to not eat before a {test}"),
                 ("formal", "What is the required fasting period, in hours, prior to a {test}?"),
                 ("synonym", "How long must I go without food before having a {test}?"),
                 ("reorder", "Before a {test}, how many hours of fasting are needed?")),
           misses=(("entity", "How many hours should I fast before a {test2}?"),
                   ("direction", "How many hours should I fast after a {test}?"),
                   ("scope", "Can I drink water while fasting before a {test}?"),
                   ("negation", "What happens if I don't fast before a {test}?"))),
    Family("health.dose-interval", "How many hours apart should I take {mg} mg of {drug}?",
           ({"mg": "400", "mg2": "800", "drug": "ibuprofen", "drug2": "naproxen"},
            {"mg": "500", "mg2": "1,000", "drug": "acetaminophen", "drug2": "aspirin"}),
           hits=(("casual", "how long to wait between {mg}mg doses of {drug}"),
                 ("formal", "What interval, in hours, should separate doses of {mg} mg {drug}?"),
                 ("reorder", "{drug} at {mg} mg: how many hours apart should I take it?")),
           misses=(("number", "How many hours apart should I take {mg2} mg of {drug}?"),
                   ("entity", "How many hours apart should I take {mg} mg of {drug2}?"),
                   ("unit", "How many hours apart should I take {mg} g of {drug}?"),
                   ("quantity", "What is the maximum number of {mg} mg {drug} tablets I can take in a day?"))),
    Family("health.vaccine-interval", "How many weeks apart are the two doses of the {vaccine} vaccine for adults?",
           ({"vaccine": "shingles", "vaccine2": "hepatitis A"}, {"vaccine": "HPV", "vaccine2": "MMR"}),
           hits=(("casual", "how far apart are the {vaccine} shots for adults"),
                 ("formal", "What interval, in weeks, separates the two adult doses of the {vaccine} vaccine?"),
                 ("synonym", "How long do adults wait between the first and second {vaccine} vaccine doses?")),
           misses=(("entity", "How many weeks apart are the two doses of the {vaccine2} vaccine for adults?"),
                   ("scope", "How many weeks apart are the doses of the {vaccine} vaccine for children?"),
                   ("quantity", "How many doses of the {vaccine} vaccine does an adult need in total?"),
                   ("scope", "How many weeks after the second {vaccine} dose is an adult fully protected?"))),
    Family("health.dose-times", "If I take my first antibiotic dose at {t} and it's every {n} hours, when are the "
                                "next two doses?",
           ({"t": "7 am", "t24": "07:00", "t2": "7 pm", "t2_24": "19:00", "n": "8", "n2": "12"},
            {"t": "10 pm", "t24": "22:00", "t2": "10 am", "t2_24": "10:00", "n": "6", "n2": "4"}),
           hits=(("casual", "first antibiotic at {t}, every {n} hrs - when are the next two?"),
                 ("formal", "With the first dose taken at {t24} and a dose every {n} hours, at what times are the "
                            "following two doses due?"),
                 ("reorder", "When are my next two antibiotic doses if it's every {n} hours and I took the first "
                             "at {t}?")),
           misses=(("time", "If I take my first antibiotic dose at {t2} and it's every {n} hours, when are the next "
                            "two doses?"),
                   ("time", "With my first antibiotic dose at {t2_24} and one every {n} hours, when are the "
                            "next two due?"),
                   ("number", "If I take my first antibiotic dose at {t} and it's every {n2} hours, when are the "
                              "next two doses?"),
                   ("direction", "If my last antibiotic dose is at {t} and it's every {n} hours, when were the "
                                 "previous two doses?"),
                   ("quantity", "If I take my first antibiotic dose at {t} and it's every {n} hours, when are the "
                                "next four doses?"))),
)

SCENARIOS = (
    Scenario("health.appointment",
             context=(("user", "I have an appointment with Dr. {doctor} on {day} at {t}."),
                      ("assistant", "Okay, your appointment with Dr. {doctor} is {day} at {t}.")),
             reworded=(("user", "On {day} at {t} I'm booked in with Dr. {doctor}."),
                       ("assistant", "Noted: Dr. {doctor}, {day}, {t}.")),
             question="Can I move it to the same time next week?", entity="doctor", detail="day",
             fills=({"doctor": "Patel", "doctor2": "Nguyen", "day": "Tuesday", "day2": "Friday", "t": "9:30 am"},
                    {"doctor": "Okafor", "doctor2": "Schmidt", "day": "Thursday", "day2": "Monday",
                     "t": "2:15 pm"})),
    Scenario("health.prescription",
             context=(("user", "My doctor prescribed {drug} {mg} mg once a day."),
                      ("assistant", "Understood, {drug} {mg} mg daily.")),
             reworded=(("user", "I've been put on {mg} mg of {drug}, one dose per day."),
                       ("assistant", "Okay: {mg} mg of {drug} once daily.")),
             question="Is it safe to drink a glass of wine with it?", entity="drug", detail="mg",
             fills=({"drug": "sertraline", "drug2": "metronidazole", "mg": "50", "mg2": "200"},
                    {"drug": "lisinopril", "drug2": "warfarin", "mg": "10", "mg2": "40"})),
)

OFFERS = (
    Offer("health.lost-card",
          ask="I lost my health insurance card and I have a doctor's visit on Friday.",
          offer="No problem, your coverage is still active. Would you like me to {offer}?",
          ask_reworded="My insurance card is gone and I'm seeing the doctor this Friday.",
          offer_reworded="Don't worry, you're still covered. Should I {offer}?",
          fills=({"offer": "email you a temporary digital card", "offer2": "mail you a new plastic card"},
                 {"offer": "send your member details to the clinic",
                  "offer2": "reschedule your visit to next week"})),
)
