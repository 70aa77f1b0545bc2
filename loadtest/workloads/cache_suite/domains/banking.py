"""Banking: transfers, cards, wires, interest."""

from loadtest.workloads.cache_suite.model import Family, Offer, Scenario

FAMILIES = (
    Family("banking.transfer-fee", "Is there a fee to transfer money from my {src} account to my {dst} account?",
           ({"src": "savings", "dst": "checking"}, {"src": "business", "dst": "personal"}),
           hits=(("casual", "do I get charged for moving money from {src} to {dst}?"),
                 ("formal", "Could you tell me whether a fee applies when I transfer funds from my {src} account "
                            "to my {dst} account?"),
                 ("reorder", "From my {src} account to my {dst} account, is there a fee for a transfer?"),
                 ("synonym", "Does it cost anything to move funds from my {src} account into my {dst} account?")),
           misses=(("direction", "Is there a fee to transfer money from my {dst} account to my {src} account?"),
                   ("role", "Is there a fee when someone else transfers money from their {src} account into my "
                            "{dst} account?"),
                   ("scope", "Is there a fee to transfer money from my {src} account to my {dst} account at "
                             "another bank?"))),
    Family("banking.card-freeze", "How do I freeze my {bank} debit card in the app?",
           ({"bank": "Chase", "bank2": "Citi"}, {"bank": "Wells Fargo", "bank2": "Capital One"}),
           hits=(("casual", "how can i lock my {bank} debit card from the app"),
                 ("formal", "Please explain how to freeze my {bank} debit card using the mobile app."),
                 ("synonym", "What's the way to temporarily block my {bank} debit card in the app?"),
                 ("filler", "I think I left my wallet somewhere, how do I freeze my {bank} debit card in the app?")),
           misses=(("antonym", "How do I unfreeze my {bank} debit card in the app?"),
                   ("entity", "How do I freeze my {bank2} debit card in the app?"),
                   ("entity", "How do I freeze my {bank} credit card in the app?"),
                   ("negation", "Why can't I freeze my {bank} debit card in the app?"))),
    Family("banking.wire-same-day", "If I send a domestic wire at {t} on a weekday, will it arrive the same day?",
           ({"t": "6 pm", "t24": "18:00", "t2": "6 am"},),
           hits=(("casual", "if i wire money domestically at {t} on a weekday does it land same day?"),
                 ("formal", "Will a domestic wire transfer initiated at {t24} on a business day be credited the "
                            "same day?"),
                 ("reorder", "On a weekday at {t}, if I send a domestic wire, does it arrive that same day?"),
                 ("synonym", "Does a domestic wire sent at {t} on a workday get there the same day?")),
           misses=(("time", "If I send a domestic wire at {t2} on a weekday, will it arrive the same day?"),
                   ("date", "If I send a domestic wire at {t} on a Saturday, will it arrive the same day?"),
                   ("entity", "If I send an international wire at {t} on a weekday, will it arrive the same day?"))),
    Family("banking.savings-interest",
           "How much interest will I earn on ${amt} in a savings account at {rate}% APY over one year?",
           ({"amt": "5,000", "amt2": "50,000", "rate": "4", "rate2": "1.4"},
            {"amt": "12,000", "amt2": "1,200", "rate": "3.5", "rate2": "5.3"}),
           hits=(("casual", "if i put ${amt} in savings at {rate}% APY how much interest do i get in a year"),
                 ("formal", "What interest would a deposit of ${amt} earn over twelve months in a savings account "
                            "paying {rate}% APY?"),
                 ("reorder", "At {rate}% APY, how much interest does ${amt} earn in a savings account in one year?"),
                 ("near_repeat", "How much interest would I earn on ${amt} in a savings account at {rate}% APY "
                                 "over 1 year?")),
           misses=(("number", "How much interest will I earn on ${amt2} in a savings account at {rate}% APY over "
                              "one year?"),
                   ("number", "How much interest will I earn on ${amt} in a savings account at {rate2}% APY over "
                              "one year?"),
                   ("date", "How much interest will I earn on ${amt} in a savings account at {rate}% APY over "
                            "five years?"),
                   ("currency", "How much interest will I earn on €{amt} in a savings account at {rate}% APY over "
                                "one year?"))),
    Family("banking.currency-exchange", "How many {to} will I get for {amt} {frm} at today's rate?",
           ({"amt": "500", "amt2": "5,000", "frm": "US dollars", "to": "euros", "to2": "British pounds"},
            {"amt": "1,000", "amt2": "100", "frm": "Canadian dollars", "to": "Japanese yen", "to2": "Mexican pesos"}),
           hits=(("casual", "{amt} {frm} to {to} today?"),
                 ("formal", "At today's exchange rate, what is {amt} {frm} worth in {to}?"),
                 ("synonym", "What do {amt} {frm} convert to in {to} right now?")),
           misses=(("direction", "How many {frm} will I get for {amt} {to} at today's rate?"),
                   ("number", "How many {to} will I get for {amt2} {frm} at today's rate?"),
                   ("currency", "How many {to2} will I get for {amt} {frm} at today's rate?"),
                   ("date", "How many {to} would I have got for {amt} {frm} at the rate a year ago?"),
                   ("scope", "How many {to} will I get for {amt} {frm} at an airport exchange booth?"))),
    Family("banking.atm-deposit", "If I deposit a check at the ATM at {t}, when will the money be available?",
           ({"t": "9 pm", "t24": "21:00", "t2": "9 am", "t2_24": "09:00"},
            {"t": "8:30 am", "t24": "08:30", "t2": "8:30 pm", "t2_24": "20:30"}),
           hits=(("casual", "deposited a check at the ATM at {t}, when can i use the money?"),
                 ("formal", "When will funds from a check deposited at an ATM at {t24} become available?"),
                 ("reorder", "At {t} I deposited a check at the ATM: when will the money be available?")),
           misses=(("time", "If I deposit a check at the ATM at {t2}, when will the money be available?"),
                   ("time", "When will a check I deposit at the ATM at {t2_24} be available?"),
                   ("date", "If I deposit a check at the ATM at {t} on a Friday, when will the money be available?"),
                   ("currency", "If I deposit a check in euros at the ATM at {t}, when will the money be "
                                "available?"),
                   ("entity", "If I deposit cash at the ATM at {t}, when will the money be available?"))),
)

SCENARIOS = (
    Scenario("banking.new-account",
             context=(("user", "I just opened a {acct} account at {bank}."),
                      ("assistant", "Congratulations on your new {bank} {acct} account! How can I help?")),
             reworded=(("user", "I've got a brand new {bank} {acct} account."),
                       ("assistant", "Nice, a new {acct} account with {bank}. What would you like to know?")),
             question="What's the minimum balance to avoid the monthly fee?", entity="bank", detail="acct",
             fills=({"bank": "Chase", "bank2": "Wells Fargo", "acct": "checking", "acct2": "savings"},
                    {"bank": "Citibank", "bank2": "PNC", "acct": "money market", "acct2": "student checking"})),
    Scenario("banking.send-abroad",
             context=(("user", "I want to send ${amt} to my sister in {country}."),
                      ("assistant", "I can help with that. Sending ${amt} to {country} is an international "
                                    "transfer.")),
             reworded=(("user", "My sister lives in {country} and I need to get ${amt} to her."),
                       ("assistant", "Sure, that's an international transfer of ${amt} to {country}.")),
             question="How long will it take to arrive, and what will it cost?", entity="country", detail="amt",
             fills=({"amt": "200", "amt2": "20,000", "country": "Mexico", "country2": "India"},
                    {"amt": "1,500", "amt2": "15", "country": "the Philippines", "country2": "Germany"})),
)

OFFERS = (
    Offer("banking.declined-card",
          ask="My debit card was declined at the store even though I have money in the account.",
          offer="Sorry about that. It may have been flagged by fraud protection. Would you like me to {offer}?",
          ask_reworded="The store declined my debit card, but there's enough money in my account.",
          offer_reworded="I'm sorry. Fraud protection may have flagged the purchase. Shall I {offer}?",
          fills=({"offer": "unlock the card so you can try again",
                  "offer2": "cancel the card and send you a replacement"},
                 {"offer": "text you a code to confirm the purchase was you",
                  "offer2": "raise your daily spending limit"})),
)
