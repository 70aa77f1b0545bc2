"""Conversations in the semantic cache: the history matters exactly when the question depends on it."""

import numpy as np
from cache_requests import answer, chat

from gateway.cache.conversation import context_of
from gateway.cache.embedder import Embedder
from gateway.cache.pair_scorer import VerifierPairScorer
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.sqlite_store import SqliteStore

BREAD = (("How do I bake bread?", "Mix flour, water, yeast and salt, knead, let it rise and bake."),)
CAT = (("What's a good name for a cat?", "Whiskers is a classic."),)
IPHONE = (("I'm looking at the iPhone 15.", "The iPhone 15 is a great phone. Want me to check prices?"),)
# The shipped pair scorer (the QQP verifier) reads "looking at" / "considering buying" as different
# (P 0.29); this closer rewording it accepts (P 0.50).
IPHONE_REWORDED = (("I am looking at buying the iPhone 15.",
                    "Good choice, the iPhone 15 is excellent. Shall I look up the price?"),)
GALAXY = (("I'm interested in the Galaxy S24.", "The Galaxy S24 is a great phone. Want me to check prices?"),)
REBOOK = (("My flight got cancelled.", "Sorry to hear that. Would you like me to rebook you on the next flight?"),)
REBOOK_REWORDED = (("My flight was cancelled.",
                    "I am sorry about that. Do you want me to rebook you on the next available flight?"),)
REFUND = (("My flight got cancelled.", "Sorry to hear that. Would you like a refund instead?"),)


async def test_a_self_contained_question_hits_after_unrelated_history(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("What is the capital of Australia?", history=BREAD), answer("Canberra."), "m")
    after_other_history = await cache.lookup("t1", p, chat("What is the capital of Australia?", history=CAT))
    assert after_other_history.reason == "semantic"
    alone = await cache.lookup("t1", p, chat("what's the capital city of Australia?"))
    assert alone.hit and alone.entry.response["choices"][0]["message"]["content"] == "Canberra."


async def test_a_dependent_question_hits_after_the_same_context_worded_differently(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("How much is it?", history=IPHONE), answer("From $799."), "m")
    assert (await cache.lookup("t1", p, chat("How much is it?", history=IPHONE_REWORDED))).reason == "semantic"


async def test_a_dependent_question_misses_after_a_context_about_another_product(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("How much is it?", history=IPHONE), answer("From $799."), "m")
    result = await cache.lookup("t1", p, chat("How much is it?", history=GALAXY))
    assert not result.hit and result.best.rejected_by.startswith("context")


async def test_a_changed_plan_or_amount_in_the_context_misses(cache, policy):
    p = policy()
    basic = (("I'm on the Basic plan.", "Thanks, I see you're on Basic."),)
    premium = (("I'm on the Premium plan.", "Thanks, I see you're on Premium."),)
    await cache.insert("t1", p, chat("How much does an upgrade cost?", history=basic), answer("$10 a month."), "m")
    plan = await cache.lookup("t1", p, chat("How much does an upgrade cost?", history=premium))
    assert not plan.hit and plan.best.rejected_by == "context_entities"
    owe = (("I owe 500 dollars on my phone bill.", "I see a balance of $500."),)
    await cache.insert("t1", p, chat("Can I pay it in installments?", history=owe), answer("Yes, in 3."), "m")
    more = (("I owe 1200 dollars on my phone bill.", "I see a balance of $1,200."),)
    amount = await cache.lookup("t1", p, chat("Can I pay it in installments?", history=more))
    assert not amount.hit and amount.best.rejected_by == "context_numbers"


async def test_yes_please_misses_after_a_different_offer_and_hits_after_the_same_one(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("yes please", history=REBOOK), answer("Rebooked on flight 12."), "m")
    other_offer = await cache.lookup("t1", p, chat("yes please", history=REFUND))
    assert not other_offer.hit and other_offer.best.rejected_by == "context_offer"
    assert (await cache.lookup("t1", p, chat("yes please", history=REBOOK_REWORDED))).hit


async def test_and_in_python_after_sorting_misses_and_in_python_after_regexes(cache, policy):
    p = policy()
    sorting = (("How do I sort a list in Java?", "Collections.sort(list)"),)
    await cache.insert("t1", p, chat("and in Python?", history=sorting), answer("sorted(xs)"), "m")
    regex = (("How do I match a regex in Java?", "Pattern.compile(...)"),)
    assert not (await cache.lookup("t1", p, chat("and in Python?", history=regex))).hit
    reworded = (("How can I sort a list using Java?", "Use Collections.sort(list)."),)
    assert (await cache.lookup("t1", p, chat("and in Python?", history=reworded))).hit


async def test_a_history_that_sets_the_scene_keeps_even_a_self_contained_question_apart(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("How do I write a loop?", history=(("Let's talk about Rust.", "Sure."),)),
                       answer("for x in xs {}"), "m")
    assert not (await cache.lookup("t1", p, chat("How do I write a loop?",
                                                 history=(("Let's talk about Go.", "Sure."),)))).hit
    await cache.insert("t1", p, chat("What is the capital of Peru?"), answer("Lima."), "m")
    french = (("From now on, answer in French.", "D'accord."),)
    assert not (await cache.lookup("t1", p, chat("What is the capital of Peru?", history=french))).hit


async def test_the_injected_pair_scorer_decides_whether_two_contexts_agree(tmp_path, embedding_model, verifier,
                                                                         policy):
    seen: list[tuple[str, str]] = []

    def never_the_same(pairs):
        seen.extend(pairs)
        return np.zeros(len(pairs))

    cache = SemanticCache(await SqliteStore.open(tmp_path / "c.db"), Embedder(embedding_model), verifier,
                          maintenance_interval_s=0, context_scorer=never_the_same)
    await cache.start(progress=False)
    try:
        p = policy()
        await cache.insert("t1", p, chat("How much is it?", history=IPHONE), answer("From $799."), "m")
        result = await cache.lookup("t1", p, chat("How much is it?", history=IPHONE_REWORDED))
        assert not result.hit and result.best.rejected_by == "context"
        assert seen == [(context_of(_turns(IPHONE_REWORDED)).text, context_of(_turns(IPHONE)).text)]
        # A self-contained question after unrelated history never asks the scorer.
        await cache.insert("t1", p, chat("What is the capital of Australia?", history=BREAD), answer("Canberra"), "m")
        assert (await cache.lookup("t1", p, chat("What is the capital of Australia?", history=CAT))).hit
        assert len(seen) == 1
    finally:
        await cache.close()
        await cache.embedder.close()


async def test_a_history_with_a_tool_call_only_matches_word_for_word(cache, policy):
    p = policy()
    tool_history = [{"role": "user", "content": "Weather in Paris?"},
                    {"role": "assistant", "content": None, "tool_calls": [
                        {"id": "1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
                    {"role": "tool", "tool_call_id": "1", "content": "sunny"},
                    {"role": "assistant", "content": "It is sunny."}]
    asked = {"model": "m", "messages": [*tool_history, {"role": "user", "content": "What is the capital of Peru?"}]}
    await cache.insert("t1", p, asked, answer("Lima."), "m")
    assert (await cache.lookup("t1", p, asked)).reason == "exact"
    assert not (await cache.lookup("t1", p, chat("What is the capital of Peru?"))).hit


def _turns(history):
    return tuple((role, text) for user, assistant in history
                 for role, text in (("user", user), ("assistant", assistant)))


async def test_a_detail_swapped_in_an_otherwise_identical_history_misses(cache, policy):
    p = policy()
    checking = (("I just opened a checking account at the bank.", "Congratulations on the new checking account!"),)
    savings = (("I just opened a savings account at the bank.", "Congratulations on the new savings account!"),)
    await cache.insert("t1", p, chat("What's the minimum balance to avoid the monthly fee?", history=checking),
                       answer("$1,500."), "m")
    result = await cache.lookup("t1", p, chat("What's the minimum balance to avoid the monthly fee?", history=savings))
    assert not result.hit and result.best.rejected_by == "context_detail"


def test_the_default_pair_scorer_reads_a_rewording_as_the_same_and_a_swap_as_different(embedding_model, verifier):
    score = VerifierPairScorer(verifier, embedding_model.encode)
    same, swapped = score([("How do I sort a list in Java?", "How can I sort a list using Java?"),
                           ("How do I sort a list in Java?", "How do I sort a list in Rust?")])
    assert same > 0.5 > swapped
    assert len(score([])) == 0


async def test_small_talk_around_the_same_context_still_hits(cache, policy):
    p = policy()
    transfer = (("I want to send money to my brother in Peru.", "Sure. A transfer to Peru usually takes 2 days."),)
    await cache.insert("t1", p, chat("What will they charge me for it?", history=transfer), answer("A $5 fee."), "m")
    # The assistant's own closing words ("Anything else?") are no fact the two conversations disagree on.
    chatty = (("hi there", "Hello! How can I help?"), *transfer, ("great, thanks", "Glad to help! Anything else?"))
    assert (await cache.lookup("t1", p, chat("What will they charge me for it?", history=chatty))).hit
    chile = (("I want to send money to my brother in Chile.", "Sure. A transfer to Chile usually takes 2 days."),)
    changed = await cache.lookup("t1", p, chat("What will they charge me for it?", history=chile))
    assert not changed.hit and changed.best.rejected_by == "context_entities"


class _CountingModel:
    """The real embedding model, noting every text it is asked to embed."""

    def __init__(self, model) -> None:
        self.model, self.dim, self.identity, self.encoded = model, model.dim, model.identity, []

    def encode(self, texts, **options):
        self.encoded.extend(texts)
        return self.model.encode(texts, **options)


async def test_a_lookup_embeds_only_its_own_conversation(tmp_path, embedding_model, verifier, policy):
    model = _CountingModel(embedding_model)
    cache = SemanticCache(await SqliteStore.open(tmp_path / "c.db"), Embedder(model), verifier,
                          maintenance_interval_s=0)
    await cache.start(progress=False)
    try:
        p = policy()
        await cache.insert("t1", p, chat("How much is it?", history=IPHONE), answer("From $799."), "m")
        stored = context_of(_turns(IPHONE)).text
        assert stored in model.encoded  # embedded once, at insert
        model.encoded.clear()
        assert (await cache.lookup("t1", p, chat("How much is it?", history=IPHONE_REWORDED))).hit
        assert context_of(_turns(IPHONE_REWORDED)).text in model.encoded and stored not in model.encoded
    finally:
        await cache.close()
        await cache.embedder.close()


def test_a_vague_now_in_a_history_states_no_day():
    """ "I'm currently on Basic" and "I'm on Basic" state the same facts; "today" and "tomorrow" do not."""

    def dates(text: str) -> frozenset[str]:
        return context_of(_turns(((text, "Okay."),))).facts.dates

    assert dates("I'm currently on the Basic plan.") == dates("I'm on the Basic plan.") == frozenset()
    assert dates("Right now I'm on the Basic plan and I recently moved.") == frozenset()
    assert dates("I'm on the Basic plan and my bill is due today.") == {"today"}
    assert dates("I'm currently on the Basic plan and my bill is due tomorrow.") == {"tomorrow"}
