"""The semantic cache through its facade, with the real MiniLM model, verifier and SQLite store."""

import asyncio

import numpy as np
import pytest
from cache_requests import answer, chat

from gateway.cache.semantic_cache import CacheControls, SemanticCache


async def test_the_exact_tier_answers_a_repeat_with_different_case_and_punctuation(cache, policy):
    p = policy()
    entry_id = await cache.insert("t1", p, chat("What is the capital of France?"), answer("Paris."), "m")
    result = await cache.lookup("t1", p, chat("what is the capital of france"))
    assert result.reason == "exact" and result.entry.id == entry_id
    assert result.entry.response["choices"][0]["message"]["content"] == "Paris."


async def test_a_paraphrase_is_a_semantic_hit(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("How can I improve my English speaking skills?"), answer("Practice daily."), "m")
    result = await cache.lookup("t1", p, chat("How can I improve my spoken English skills?"))
    assert result.reason == "semantic" and result.hit
    assert result.similarity > p.similarity_threshold and result.probability >= p.verifier_threshold


async def test_the_same_canonical_question_hits_however_many_look_alikes_are_stored(cache, policy):
    # Greeting, case and a typo aside the question is the stored one: the verifier would read two identical
    # canonical forms and judge by the look-alikes around them; the rule answers it, and the guards still read
    # the texts as written.
    p = policy(verifier_threshold=0.87)
    for bank in ("Chase", "Wells Fargo", "Citi", "Capital One"):
        for verb in ("freeze", "unfreeze", "replace"):
            await cache.insert("t1", p, chat(f"How do I {verb} my {bank} debit card in the app?"), answer(bank), "m")
    stored = "How do I freeze my Chase debit card in the app?"
    result = await cache.lookup("t1", p, chat("hey quick q, how do i frezee my Chase debit card in the app"))
    assert result.reason == "semantic" and result.probability == 1.0
    assert result.entry.query_text == stored
    assert not (await cache.lookup("t1", p, chat("hey, how do i frezee my Citi credit card in the app"))).hit


async def test_a_question_restated_with_the_same_words_and_quantities_hits_past_the_verifiers_doubt(cache, policy):
    # The verifier reads the moved words and the added "I" as doubt (about 0.55); the same content words, pound
    # weight and oven temperature make it one question (restated.py). Another weight is the guards' to refuse.
    p = policy(verifier_threshold=0.77)
    for pounds, degrees in ((4, 425), (5, 375)):
        await cache.insert(
            "t1", p, chat(f"How long should I roast a {pounds} pound whole chicken at {degrees}°F?"), answer("1h"), "m"
        )
    result = await cache.lookup("t1", p, chat("At 425°F, how long should a 4 pound whole chicken roast?"))
    assert result.reason == "semantic" and result.probability == 1.0
    assert result.entry.query_text == "How long should I roast a 4 pound whole chicken at 425°F?"
    assert not (await cache.lookup("t1", p, chat("At 425°F, how long should a 6 pound whole chicken roast?"))).hit


async def test_a_look_alike_the_guards_veto_does_not_weigh_on_the_verifier(open_cache, policy, tmp_path):
    # The verifier's context features count the query's close neighbours; another gym's question (vetoed by
    # the entities guard) is no other reading of this one, so it leaves the probability as it was alone.
    p = policy()
    stored, asked = "How do I cancel my LA Fitness membership?", "how do i end my gym membership at LA Fitness"
    alone = await open_cache(tmp_path / "alone.db")
    crowded = await open_cache(tmp_path / "crowded.db")
    await alone.insert("t1", p, chat(stored), answer("LA"), "m")
    for gym in ("Planet Fitness", "Crunch Fitness", "Gold's Gym", "LA Fitness"):
        await crowded.insert("t1", p, chat(f"How do I cancel my {gym} membership?"), answer(gym), "m")
    by_itself = await probability_of(alone, p, asked, stored)
    among_others = await probability_of(crowded, p, asked, stored)
    assert by_itself is not None and among_others == pytest.approx(by_itself)


async def probability_of(cache: SemanticCache, p, asked: str, stored: str) -> float | None:
    candidates = (await cache.lookup("t1", p, chat(asked))).candidates
    return next(c.probability for c in candidates if c.entry.query_text == stored)


async def test_the_same_question_after_a_different_conversation_misses(cache, policy):
    p = policy()
    java = (("How do I sort a list in Java?", "Collections.sort(list)"),)
    await cache.insert("t1", p, chat("And how about in Python?", history=java), answer("sorted(xs)"), "m")
    regex = (("How do I match a regex in Java?", "Pattern.compile(...)"),)
    assert not (await cache.lookup("t1", p, chat("And how about in Python?", history=regex))).hit
    assert (await cache.lookup("t1", p, chat("And how about in Python?", history=java))).reason == "exact"
    assert not (await cache.lookup("t1", p, chat("And how about in Python?", system="Be brief.", history=java))).hit


async def test_a_paraphrase_classified_into_another_category_still_hits_while_young_enough_for_its_own(cache, policy):
    stored_as, asked_as = policy(name="general", ttl_seconds=86400), policy(name="time_sensitive", ttl_seconds=0.2)
    await cache.insert("t1", stored_as, chat("How can I improve my English speaking skills?"), answer("Practice."), "m")
    paraphrase = chat("How can I improve my spoken English skills?")
    result = await cache.lookup("t1", asked_as, paraphrase)
    assert result.reason == "semantic" and result.entry.category == "general"
    await asyncio.sleep(0.3)  # older than the asking category keeps answers, though alive in its own
    assert not (await cache.lookup("t1", asked_as, paraphrase)).hit
    assert (await cache.lookup("t1", stored_as, paraphrase)).hit
    assert not (await cache.lookup("t2", stored_as, paraphrase)).hit  # still never another tenant's


async def test_an_entry_of_another_category_is_refused_only_once_stale_by_the_asking_categorys_ttl(cache, policy):
    stored_as, asked_as = policy(name="general", ttl_seconds=0.3), policy(name="time_sensitive", ttl_seconds=60)
    await cache.insert("t1", stored_as, chat("How can I improve my English speaking skills?"), answer("Practice."), "m")
    paraphrase = chat("How can I improve my spoken English skills?")
    assert (await cache.lookup("t1", asked_as, paraphrase)).hit
    await asyncio.sleep(0.4)  # past its own TTL: it answers nobody, whatever category asks
    assert not (await cache.lookup("t1", asked_as, paraphrase)).hit
    # Stale by the asking category's TTL: while the upstream fails (allow_stale) it still stands in,
    # as an entry of the asking category itself would, flagged stale.
    short = policy(name="time_sensitive", ttl_seconds=0.1)
    stand_in = await cache.lookup("t1", short, paraphrase, allow_stale=True, max_stale_s=60)
    assert stand_in.hit and stand_in.stale
    assert not (await cache.lookup("t1", short, paraphrase, allow_stale=True, max_stale_s=0.05)).hit


async def test_a_question_with_another_number_is_rejected_by_the_guards(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("How do I lose 10 kg in a month?"), answer("..."), "m")
    result = await cache.lookup("t1", p, chat("How do I lose 20 kg in a month?"))
    assert result.reason == "guard_rejected" and not result.hit
    assert result.best.rejected_by == "numbers" and result.similarity > 0.85


async def test_the_verifier_rejects_a_close_question_that_asks_something_else(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("How do I get rid of acne?"), answer("..."), "m")
    result = await cache.lookup("t1", p, chat("How do I get rid of acne scars?"))
    assert result.reason == "verifier_rejected" and not result.hit
    assert result.probability < p.verifier_threshold


async def test_expired_entries_miss_and_are_purged(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("What is the weather like in Paris?"), answer("Sunny."), "m", ttl_override=0.05)
    await asyncio.sleep(0.1)
    assert (await cache.lookup("t1", p, chat("What is the weather like in Paris?"))).reason == "miss"
    assert (await cache.lookup("t1", p, chat("What is the weather like in Paris?"), allow_stale=True)).stale
    assert await cache.purge_expired() == 1
    assert len(cache.index) == 0 and await cache.store.count() == 0


@pytest.mark.parametrize(("eviction", "evicted"), [("lru", "first"), ("lfu", "second")])
async def test_the_quota_evicts_by_the_category_policy(cache, policy, eviction, evicted):
    p = policy(max_entries=2, eviction=eviction)
    questions = {"first": "What is the tallest mountain on Earth?", "second": "Who painted the Mona Lisa?"}
    for name, question in questions.items():
        await cache.insert("t1", p, chat(question), answer(name), "m")
    for name in ("first", "first", "second"):  # first: used more; second: used last
        assert (await cache.lookup("t1", p, chat(questions[name]))).hit
    await cache.insert("t1", p, chat("How many moons does Mars have?"), answer("third"), "m")
    assert await cache.store.count() == 2 and len(cache.index) == 2
    assert not (await cache.lookup("t1", p, chat(questions[evicted]))).hit
    kept = "second" if evicted == "first" else "first"
    assert (await cache.lookup("t1", p, chat(questions[kept]))).hit


async def test_private_entries_never_reach_another_tenant_and_shared_ones_do(cache, policy):
    private, shared = policy(), policy(name="docs", scope="shared")
    personal = policy(name="account", scope="shared", personal=True)
    for p in (private, shared, personal):
        await cache.insert("alice", p, chat("What is my account balance?"), answer("42"), "m")
    assert (await cache.lookup("alice", private, chat("What is my account balance?"))).hit
    assert not (await cache.lookup("bob", private, chat("What is my account balance?"))).hit
    assert not (await cache.lookup("bob", private, chat("What's my account balance?"))).hit
    assert not (await cache.lookup("bob", personal, chat("What is my account balance?"))).hit
    shared_hit = await cache.lookup("bob", shared, chat("What is my account balance?"))
    assert shared_hit.hit and shared_hit.entry.tenant == "alice" and shared_hit.namespace == "*shared*"


async def test_no_cache_bypasses_and_no_store_keeps_nothing(cache, policy):
    p = policy()
    request = chat("What is the boiling point of water?")
    assert await cache.insert("t1", p, request, answer("100 C"), "m", controls=CacheControls(no_store=True)) is None
    assert await cache.store.count() == 0
    await cache.insert("t1", p, request, answer("100 C"), "m")
    assert (await cache.lookup("t1", p, request, controls=CacheControls(no_cache=True))).reason == "bypass"
    assert (await cache.lookup("t1", p, request)).hit


async def test_only_complete_answers_are_stored(cache, policy):
    p = policy()
    # Cut at a bound the upstream chose (the request set none): not what the client asked for.
    assert await cache.insert("t1", p, chat("Write a poem"), answer("Roses are", finish_reason="length"), "m") is None
    call = {"tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
    tool_answer = answer("", finish_reason="tool_calls", **call)
    assert await cache.insert("t1", p, chat("Weather in Oslo?"), tool_answer, "m") is None
    assert await cache.insert("t1", policy(cache_tool_calls=True), chat("Weather in Oslo?"), tool_answer, "m")
    assert await cache.insert("t1", policy(cacheable=False), chat("Hi"), answer("Hello"), "m") is None


async def test_an_answer_cut_at_the_requests_own_bound_answers_that_bound_only(cache, policy):
    p = policy()
    cut = answer("Roses are red, violets", finish_reason="length")
    assert await cache.insert("t1", p, chat("Write a poem about roses", max_tokens=5), cut, "m")
    again = await cache.lookup("t1", p, chat("write a poem about roses", max_tokens=5))
    assert again.hit and again.entry.response["choices"][0]["finish_reason"] == "length"
    assert (await cache.lookup("t1", p, chat("Write a poem about roses, please", max_tokens=5))).hit
    # Asking for more (or for no bound) is another request: the cut answer would be short of it.
    assert not (await cache.lookup("t1", p, chat("Write a poem about roses", max_tokens=500))).hit
    assert not (await cache.lookup("t1", p, chat("Write a poem about roses"))).hit
    assert await cache.insert("t1", p, chat("Write a poem about tulips", max_completion_tokens=5), cut, "m")
    assert await cache.insert("t1", policy(cache_cut_answers=False), chat("Write a limerick", max_tokens=5), cut,
                              "m") is None


async def test_a_failed_store_write_never_becomes_visible(cache, policy):
    p = policy()

    async def failing_put(entry):
        raise OSError("disk full")

    cache.store.put = failing_put
    with pytest.raises(OSError):
        await cache.insert("t1", p, chat("What is the speed of light?"), answer("c"), "m")
    assert len(cache.index) == 0


async def test_the_store_commits_before_the_index_shows_the_entry(cache, policy):
    p = policy()
    seen_in_index_during_put = []
    original_put = cache.store.put

    async def watching_put(entry):
        seen_in_index_during_put.append(entry.id in cache.index)
        replaced = await original_put(entry)
        seen_in_index_during_put.append(entry.id in cache.index)
        return replaced

    cache.store.put = watching_put
    entry_id = await cache.insert("t1", p, chat("What is the speed of light?"), answer("c"), "m")
    assert seen_in_index_during_put == [False, False] and entry_id in cache.index


async def test_a_restart_rebuilds_the_index_from_the_store_and_loses_nothing(open_cache, policy, tmp_path):
    p = policy()
    first = await open_cache(tmp_path / "restart.db")
    questions = ["How can I improve my English speaking skills?", "What is the capital of Australia?",
                 "How do I make a good cup of coffee?"]
    ids = [await first.insert("t1", p, chat(q), answer(q), "m") for q in questions]
    await first.close()
    second = await open_cache(tmp_path / "restart.db")
    assert len(second.index) == 3 and all(i in second.index for i in ids)
    result = await second.lookup("t1", p, chat("How can I improve my spoken English skills?"))
    assert result.hit and result.entry.id == ids[0]


async def test_a_precomputed_query_embedding_is_used_as_is(cache, policy):
    p = policy()
    await cache.insert("t1", p, chat("How can I improve my English speaking skills?"), answer("..."), "m")
    vector = await cache.embedder.embed("How can I improve my spoken English skills?", "t")
    encoded_before = cache.embedder.stats.texts_encoded
    result = await cache.lookup("t1", p, chat("How can I improve my spoken English skills?"), query_embedding=vector)
    assert result.hit and cache.embedder.stats.texts_encoded == encoded_before
    assert np.isclose(np.linalg.norm(vector), 1.0, atol=1e-4)


async def test_hits_are_counted_in_the_store(cache, policy):
    p = policy()
    entry_id = await cache.insert("t1", p, chat("Who wrote Hamlet?"), answer("Shakespeare"), "m")
    for _ in range(3):
        await cache.lookup("t1", p, chat("Who wrote Hamlet?"))
    await cache.flush_hits()
    stored = await cache.store.get(entry_id)
    assert stored.hit_count == 3 and stored.last_hit_at is not None


async def test_a_deleted_entry_no_longer_answers(cache: SemanticCache, policy):
    p = policy()
    entry_id = await cache.insert("t1", p, chat("Who wrote Hamlet?"), answer("Shakespeare"), "m")
    assert await cache.delete(entry_id)
    assert not (await cache.lookup("t1", p, chat("Who wrote Hamlet?"))).hit
    assert entry_id not in cache.index
