"""Conversations through the openai SDK: the cache answers a question whatever unrelated history came
before it, and a question that depends on its conversation only when the conversations agree."""

import openai

BREAD = [{"role": "user", "content": "How do I bake bread?"},
         {"role": "assistant", "content": "Mix flour, water, yeast and salt, knead, let it rise and bake."}]
CAT = [{"role": "user", "content": "What's a good name for a cat?"},
       {"role": "assistant", "content": "Whiskers is a classic."}]


def turns(*pairs: tuple[str, str]) -> list[dict]:
    return [m for user, assistant in pairs for m in ({"role": "user", "content": user},
                                                     {"role": "assistant", "content": assistant})]


def asks(url: str):
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)

    def ask(question: str, history: list[dict]) -> tuple[str, str]:
        raw = client.chat.completions.with_raw_response.create(
            model="echo-1", messages=[*history, {"role": "user", "content": question}])
        return raw.headers["x-semgate-cache"], raw.parse().choices[0].message.content

    return ask


def test_a_question_asked_after_unrelated_history_is_answered_from_the_cache(cached_gateway, echo):
    ask = asks(cached_gateway())
    assert ask("What is the capital of Australia?", BREAD) == ("miss", "Echo: What is the capital of Australia?")
    assert ask("What is the capital of Australia?", CAT) == ("hit", "Echo: What is the capital of Australia?")
    assert ask("What is the capital of Australia?", []) == ("hit", "Echo: What is the capital of Australia?")
    assert echo.stats.requests == 1


def test_a_follow_up_hits_after_the_same_context_worded_differently(cached_gateway, echo):
    ask = asks(cached_gateway())
    first = turns(("How do I sort a list in Java?", "Use Collections.sort(list)."))
    reworded = turns(("How can I sort a list using Java?", "Collections.sort(list) sorts it in place."))
    assert ask("and in Python?", first)[0] == "miss"
    assert ask("and in Python?", reworded)[0] == "hit"
    regexes = turns(("How do I match a regex in Java?", "Use Pattern.compile and a Matcher."))
    assert ask("and in Python?", regexes)[0] == "miss"
    assert echo.stats.requests == 2


def test_a_changed_plan_or_amount_in_the_conversation_misses(cached_gateway, echo):
    ask = asks(cached_gateway())
    basic = turns(("I'm on the Basic plan.", "Thanks, I see you're on Basic."))
    premium = turns(("I'm on the Premium plan.", "Thanks, I see you're on Premium."))
    assert ask("How much does an upgrade cost?", basic)[0] == "miss"
    assert ask("How much does an upgrade cost?", premium)[0] == "miss"
    owe = turns(("I owe 500 dollars on my phone bill.", "I see a balance of $500."))
    owe_more = turns(("I owe 1200 dollars on my phone bill.", "I see a balance of $1,200."))
    assert ask("Can I pay it in installments?", owe)[0] == "miss"
    assert ask("Can I pay it in installments?", owe_more)[0] == "miss"
    assert ask("Can I pay it in installments?", owe)[0] == "hit"
    assert echo.stats.requests == 4


def test_yes_please_misses_after_a_different_offer(cached_gateway, echo):
    ask = asks(cached_gateway())
    rebook = turns(("My flight got cancelled.",
                    "Sorry to hear that. Would you like me to rebook you on the next flight?"))
    refund = turns(("My flight got cancelled.", "Sorry to hear that. Would you like a refund instead?"))
    assert ask("yes please", rebook)[0] == "miss"
    assert ask("yes please", refund)[0] == "miss"
    assert echo.stats.requests == 2
    assert ask("yes please", rebook)[0] == "hit"


def test_small_talk_around_the_same_context_still_hits_and_another_country_misses(cached_gateway, echo):
    ask = asks(cached_gateway())
    transfer = ("I want to send money to my brother in Peru.", "Sure. A transfer to Peru usually takes 2 days.")
    assert ask("What will they charge me for it?", turns(transfer))[0] == "miss"
    # The assistant's own closing words ("Anything else?") are no fact the two conversations disagree on.
    chatty = turns(("hi there", "Hello! How can I help?"), transfer, ("great, thanks", "Glad to help! Anything else?"))
    assert ask("What will they charge me for it?", chatty) == ("hit", "Echo: What will they charge me for it?")
    chile = ("I want to send money to my brother in Chile.", "Sure. A transfer to Chile usually takes 2 days.")
    assert ask("What will they charge me for it?", turns(chile))[0] == "miss"
    assert echo.stats.requests == 2
