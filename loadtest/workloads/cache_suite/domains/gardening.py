"""Gardening: planting, watering, lawn care, pests. Single-turn only (the `fresh` split)."""

from loadtest.workloads.cache_suite.model import Family

FAMILIES = (
    Family("gardening.companion", "What should I plant next to {crop}?",
           ({"crop": "tomatoes", "crop2": "potatoes"}, {"crop": "cucumbers", "crop2": "carrots"}),
           hits=(("casual", "good companion plants for {crop}?"),
                 ("formal", "Which plants make good companions for {crop} in a vegetable garden?"),
                 ("synonym", "What grows well alongside {crop}?"),
                 ("reorder", "Next to my {crop}, what should I plant?")),
           misses=(("negation", "What shouldn't I plant next to {crop}?"),
                   ("entity", "What should I plant next to {crop2}?"),
                   ("scope", "What should I plant after {crop} in the same bed next year?"))),
    Family("gardening.new-sod", "How often should I water newly laid sod?",
           ({},),
           hits=(("casual", "how often do you water new sod"),
                 ("formal", "What is the recommended watering frequency for freshly installed sod?"),
                 ("synonym", "How frequently does new turf need watering?"),
                 ("filler", "Quick one from a first-time homeowner: how often should I water newly laid sod?")),
           misses=(("antonym", "How often should I water an established lawn?"),
                   ("entity", "How often should I water newly sown grass seed?"),
                   ("scope", "How often should I water newly laid sod in the winter?"))),
    Family("gardening.watering-rules", "Our watering restrictions only allow sprinklers before 10 am - can I water the "
                                       "lawn at {t}?",
           ({"t": "9 am", "t24": "09:00", "t2": "9 pm", "t2_24": "21:00"},
            {"t": "3 pm", "t24": "15:00", "t2": "3 am", "t2_24": "03:00"}),
           hits=(("casual", "sprinklers only allowed before 10am here, is {t} ok to water the lawn?"),
                 ("formal", "If local restrictions permit sprinkler use only before 10:00, may I water my lawn at "
                            "{t24}?"),
                 ("reorder", "Can I water the lawn at {t} if our watering restrictions only allow sprinklers before "
                             "10 am?")),
           misses=(("time", "Our watering restrictions only allow sprinklers before 10 am - can I water the lawn at "
                            "{t2}?"),
                   ("time", "With sprinklers only allowed before 10:00, am I allowed to water the lawn at {t2_24}?"),
                   ("scope", "Our watering restrictions only allow sprinklers after 10 am - can I water the lawn at "
                             "{t}?"),
                   ("negation", "Our watering restrictions don't allow sprinklers before 10 am - can I water the lawn "
                                "at {t}?"))),
    Family("gardening.last-frost", "If my last frost date is {d}, when should I plant tomato seedlings outside?",
           ({"d": "April 15", "d_uk": "15 April", "d2": "May 20", "fall": "October 10"},
            {"d": "May 10", "d_uk": "10 May", "d2": "March 25", "fall": "September 28"}),
           hits=(("casual", "last frost {d}, when do tomato seedlings go outside?"),
                 ("formal", "Given a last frost date of {d_uk}, when is it safe to transplant tomato seedlings "
                            "outdoors?"),
                 ("reorder", "When should I plant tomato seedlings outside if my last frost date is {d}?"),
                 ("synonym", "Our final frost is usually around {d} - when can I move tomato starts into the "
                             "garden?")),
           misses=(("date", "If my last frost date is {d2}, when should I plant tomato seedlings outside?"),
                   ("scope", "If my last frost date is {d}, when should I start tomato seeds indoors?"),
                   ("entity", "If my last frost date is {d}, when should I sow peas outside?"),
                   ("antonym", "If my first frost date is {fall}, what's the latest I can plant tomato seedlings "
                               "outside?"))),
    Family("gardening.grass-seed", "How much grass seed do I need for {n} square feet of new lawn?",
           ({"n": "1,000", "n2": "5,000"}, {"n": "500", "n2": "2,500"}),
           hits=(("casual", "grass seed for {n} sq ft of new lawn?"),
                 ("formal", "What quantity of grass seed is required to establish a new lawn of {n} square feet?"),
                 ("reorder", "For {n} square feet of new lawn, how much grass seed do I need?"),
                 ("synonym", "How many pounds of grass seed should I buy to seed {n} sq ft of bare ground?")),
           misses=(("number", "How much grass seed do I need for {n2} square feet of new lawn?"),
                   ("unit", "How much grass seed do I need for {n} square meters of new lawn?"),
                   ("scope", "How much grass seed do I need to overseed {n} square feet of existing lawn?"),
                   ("entity", "How much starter fertilizer do I need for {n} square feet of new lawn?"))),
    Family("gardening.aphids", "How do I get rid of aphids on my roses naturally?",
           ({},),
           hits=(("casual", "natural way to get rid of aphids on roses?"),
                 ("formal", "What natural methods can I use to eliminate aphids from my rose bushes?"),
                 ("synonym", "What's an organic way to kill the aphids on my roses?"),
                 ("filler", "ugh, they're back again - how do I get rid of aphids on my roses naturally?")),
           misses=(("entity", "How do I get rid of spider mites on my roses naturally?"),
                   ("antonym", "How do I get rid of aphids on my roses with a chemical spray?"),
                   ("scope", "How do I keep aphids off my roses before they ever show up?"),
                   ("quantity", "If only one of my rose bushes has aphids, do I need to treat all of them?"))),
    Family("gardening.mulch", "How many 2 cubic foot bags of mulch do I need to cover {a} square feet {d} inches deep?",
           ({"a": "100", "a2": "250", "d": "3", "d2": "2"}, {"a": "40", "a2": "400", "d": "2", "d2": "4"}),
           hits=(("casual", "{a} sq ft, {d} in of mulch - how many 2 cu ft bags?"),
                 ("formal", "How many 2-cubic-foot bags of mulch are required to cover {a} square feet at a depth of "
                            "{d} inches?"),
                 ("reorder", "To cover {a} square feet {d} inches deep, how many 2 cubic foot bags of mulch do I "
                             "need?")),
           misses=(("number", "How many 2 cubic foot bags of mulch do I need to cover {a2} square feet {d} inches "
                              "deep?"),
                   ("number", "How many 2 cubic foot bags of mulch do I need to cover {a} square feet {d2} inches "
                              "deep?"),
                   ("unit", "How many 2 cubic foot bags of mulch do I need to cover {a} square meters {d} inches "
                            "deep?"),
                   ("unit", "How many 2 cubic foot bags of mulch do I need to cover {a} square feet {d} centimeters "
                            "deep?"))),
)

# Single-turn only: the multi-turn generator skips the `fresh` split.
SCENARIOS = ()
OFFERS = ()
