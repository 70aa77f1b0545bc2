"""Choosing examples: tenant-only retrieval, scoring, near-duplicates, the token budget, the order."""

import dataclasses

import numpy as np
import pytest

from gateway.incontext.examples import Example, asked_under, find_candidates, request_context
from gateway.incontext.injection import inject
from gateway.incontext.selection import select
from gateway.incontext.tokens import EstimatedTokens, TokenizerTokens, turn_tokens
from policies.schema import CategoryPolicy, InContextPolicy, PolicySet


def example(entry_id: str, similarity: float, answer: str = "short answer", utility: float = 0.0,
            direction: int = 0) -> Example:
    vector = np.zeros(8, dtype=np.float32)
    vector[direction] = 1.0
    return Example(entry_id, f"question {entry_id}", answer, similarity, utility, vector)


def test_the_chosen_examples_come_in_entry_id_order_whatever_their_scores():
    chosen = select([example("c", 0.9, direction=0), example("a", 0.8, direction=1), example("b", 0.7, direction=2)],
                    k=3, token_budget=10_000, counter=EstimatedTokens(), duplicate_similarity=0.95)
    assert [e.entry_id for e in chosen] == ["a", "b", "c"]


def test_the_best_scoring_examples_are_kept_and_utility_reorders_near_equals():
    candidates = [example("a", 0.80, direction=0), example("b", 0.78, utility=2.0, direction=1),
                  example("c", 0.50, utility=5.0, direction=2)]
    chosen = select(candidates, k=1, token_budget=10_000, counter=EstimatedTokens(), duplicate_similarity=0.95)
    assert [e.entry_id for e in chosen] == ["b"]  # 0.78 x 1.76 beats 0.80 x 1
    chosen = select(candidates[:1] + candidates[2:], k=1, token_budget=10_000, counter=EstimatedTokens(),
                    duplicate_similarity=0.95)
    assert [e.entry_id for e in chosen] == ["c"]  # 0.5 x ~2 beats 0.8 x 1: proven examples win


def test_near_duplicates_are_dropped():
    chosen = select([example("a", 0.9, direction=0), example("b", 0.89, direction=0), example("c", 0.7, direction=3)],
                    k=2, token_budget=10_000, counter=EstimatedTokens(), duplicate_similarity=0.95)
    assert [e.entry_id for e in chosen] == ["a", "c"]


def test_examples_fit_the_token_budget():
    counter = EstimatedTokens()
    long = example("a", 0.95, answer="x" * 3000, direction=0)  # ~1000 tokens
    short = [example(str(i), 0.9 - i / 100, direction=i + 1) for i in range(1, 5)]
    one_short = turn_tokens(counter, short[0].question, short[0].answer)
    chosen = select([long, *short], k=4, token_budget=3 * one_short, counter=counter, duplicate_similarity=0.95)
    assert [e.entry_id for e in chosen] == ["1", "2", "3"]  # the long one does not fit; three short ones do
    assert sum(turn_tokens(counter, e.question, e.answer) for e in chosen) <= 3 * one_short
    assert select([long], k=2, token_budget=100, counter=counter, duplicate_similarity=0.95) == []


def test_the_estimate_is_conservative_against_a_real_bpe_tokenizer(tmp_path):
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    text = "How do I reverse a list in Python? Use reversed(xs) or xs[::-1]; both leave xs unchanged."
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel()
    bpe.train_from_iterator([text] * 50, trainers.BpeTrainer(vocab_size=300, show_progress=False))
    bpe.save(str(tmp_path / "tokenizer.json"))
    exact = TokenizerTokens(str(tmp_path / "tokenizer.json")).count(text)
    assert 0 < exact <= EstimatedTokens().count(text) * 3  # a tiny vocabulary: the worst case for the estimate
    assert EstimatedTokens().count(text) >= len(text) / 4  # at least the usual 4 characters per token


def test_injection_keeps_the_system_prompt_first_and_marks_the_examples():
    body = {"model": "m", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q?"}]}
    out = inject(body, [example("a", 0.9)], mark=True)
    assert [m["role"] for m in out["messages"]] == ["system", "user", "assistant", "user"]
    assert out["semgate_examples"] == {"ids": ["a"], "messages": [1, 3], "chunks": [[1, 3]]}
    assert body["messages"][1] == {"role": "user", "content": "Q?"} and len(body["messages"]) == 2  # not mutated
    assert "semgate_examples" not in inject(body, [example("a", 0.9)], mark=False)
    completion = inject({"model": "m", "prompt": "Q3?"}, [example("a", 0.9)], mark=True)
    assert completion["prompt"] == "Q: question a\nA: short answer\n\nQ3?"
    block = len(completion["prompt"]) - 3
    assert completion["semgate_examples"] == {"ids": ["a"], "prompt_chars": [0, block], "chunks": [[0, block]]}


def test_each_example_gets_its_own_chunk_span_in_the_mark():
    body = {"model": "m", "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q?"}]}
    out = inject(body, [example("a", 0.9), example("b", 0.8)], mark=True)
    chunks = out["semgate_examples"]["chunks"]
    assert chunks == [[1, 3], [3, 5]]
    assert [out["messages"][s]["content"] for s, _ in chunks] == ["question a", "question b"]
    completion = inject({"model": "m", "prompt": "Q3?"}, [example("a", 0.9), example("b", 0.8)], mark=True)
    spans = completion["semgate_examples"]["chunks"]
    assert [completion["prompt"][s:e] for s, e in spans] == [
        "Q: question a\nA: short answer\n\n", "Q: question b\nA: short answer\n\n"]


async def test_a_shared_category_still_gives_each_tenant_only_its_own_examples(cache):
    from cache_answers import answer, chat

    shared = CategoryPolicy(name="general", scope="shared", incontext=InContextPolicy(enabled=True, k=4))
    policies = PolicySet(categories=(dataclasses.replace(shared, name="default"), shared), defaults=shared)
    for tenant, producer in (("t1", "big"), ("t2", "big"), ("t2", "tiny")):
        await cache.insert(tenant, shared, chat(f"How do I bake bread ({tenant}, {producer})?"),
                           answer(f"Knead it, says {producer}."), "m", producer_model=producer)
    query = await cache.embedder.embed("How do I bake a loaf of bread?", "t2")
    alone = request_context(chat("any"))
    found = await find_candidates(cache, policies, shared, "t2", query, alone, {"big"}, min_similarity=0.3,
                                  min_utility=-1)
    assert [e.question for e in found] == ["How do I bake bread (t2, big)?"]  # not t1's, not the small model's
    none = await find_candidates(cache, policies, shared, "t3", query, alone, {"big"}, min_similarity=0.3,
                                 min_utility=-1)
    assert none == []


def test_an_example_must_have_been_asked_alone_under_the_same_system_messages():
    from cache_answers import chat

    system = {"role": "system", "content": "Answer in French."}
    alone, under_french = chat("Q?"), {**chat("Q?"), "messages": [system, *chat("Q?")["messages"]]}
    after_turns = {**chat("Q?"), "messages": [{"role": "user", "content": "I use Python 2."},
                                              {"role": "assistant", "content": "Noted."}, *chat("Q?")["messages"]]}
    assert asked_under(alone) == request_context(chat("other question")) != asked_under(under_french)
    assert asked_under(under_french) == request_context({**chat("x"), "messages": [system, *chat("x")["messages"]]})
    assert asked_under(after_turns) is None  # its answer may rest on the conversation
    # A request's own earlier turns do not matter: the examples go before them, after its system messages.
    assert request_context(after_turns) == asked_under(alone)
    assert asked_under({**alone, "response_format": {"type": "json_object"}}) != asked_under(alone)
    assert asked_under({**alone, "response_format": {"type": "text"}}) == asked_under(alone)
    # A completion's prompt is a question with nothing before it, but text to continue: a chat answer is
    # no example for it (it was continued with a made-up question), nor a completion's for a chat.
    completion = {"model": "m", "prompt": "Q: 2+2?"}
    assert asked_under(completion) == request_context({"model": "m", "prompt": "other"}) != asked_under(alone)


async def test_an_answer_cut_at_max_tokens_is_cached_but_never_an_example(cache):
    from cache_answers import answer, chat

    policy = CategoryPolicy(name="general", incontext=InContextPolicy(enabled=True, k=4))
    policies = PolicySet(categories=(dataclasses.replace(policy, name="default"), policy), defaults=policy)
    cut = answer("Knead it for ten")
    cut["choices"][0]["finish_reason"] = "length"
    assert await cache.insert("t1", policy, {**chat("How do I bake bread?"), "max_tokens": 4}, cut, "m",
                              producer_model="big")
    await cache.insert("t1", policy, chat("How do I bake rye bread?"), answer("Knead it, then rest it."), "m",
                       producer_model="big")
    query = await cache.embedder.embed("How do I bake a loaf of bread?", "t1")
    found = await find_candidates(cache, policies, policy, "t1", query, request_context(chat("any")), {"big"},
                                  min_similarity=0.3, min_utility=-1)
    assert [e.question for e in found] == ["How do I bake rye bread?"]
