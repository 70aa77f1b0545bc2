"""The async embedder: concurrent requests share model calls, a tenant's repeats come from its own LRU."""

import asyncio

import numpy as np

from gateway.cache.embedder import Embedder


async def test_concurrent_requests_are_batched_and_match_single_encodes(embedding_model):
    embedder = Embedder(embedding_model, window_s=0.05, max_batch=64)
    texts = [f"How do I cook rice number {i}?" for i in range(12)]
    try:
        vectors = await asyncio.gather(*(embedder.embed(t, "t1") for t in texts))
        assert embedder.stats.batches < len(texts)
        assert embedder.stats.texts_encoded == len(texts)
        expected = embedding_model.encode(texts)
        assert np.allclose(np.stack(vectors), expected, atol=1e-4)
        assert all(v.shape == (384,) and v.dtype == np.float32 for v in vectors)
        assert np.allclose(np.linalg.norm(expected, axis=1), 1.0, atol=1e-4)
    finally:
        await embedder.close()


async def test_a_repeated_text_comes_from_the_lru_without_a_model_call(embedding_model):
    embedder = Embedder(embedding_model, lru_size=2)
    try:
        first = await embedder.embed("What is a vector database?", "t1")
        again = await embedder.embed("What is a vector database?", "t1")
        assert np.array_equal(first, again) and embedder.stats.lru_hits == 1 and embedder.stats.texts_encoded == 1
        many = await embedder.embed_many(["a", "b", "What is a vector database?"], "t1")
        assert many.shape == (3, 384)
    finally:
        await embedder.close()


async def test_a_question_is_embedded_by_its_canonical_form_and_a_history_as_written(embedding_model):
    """A greeting and a typo do not move a question's vector; the conversation check's texts keep theirs,
    and the LRU never hands one kind of vector out for the other."""
    embedder = Embedder(embedding_model, window_s=0.05)
    chatty, plain = "hey there - how do I frezee my debit card?", "How do I freeze my debit card?"
    try:
        question, reference = await embedder.embed_many([chatty, plain], "t1")
        written = await embedder.embed_many([chatty], "t1", as_written=True)
        assert float(question @ reference) > 0.999
        assert float(written[0] @ reference) < 0.95
        again = await embedder.embed(chatty, "t1")
        assert np.array_equal(again, question) and embedder.stats.lru_hits == 1
    finally:
        await embedder.close()


async def test_the_batch_size_cap_splits_a_burst(embedding_model):
    embedder = Embedder(embedding_model, window_s=0.05, max_batch=4)
    try:
        await embedder.embed_many([f"question {i}" for i in range(10)], "t1")
        assert max(embedder.stats.batch_sizes) <= 4 and embedder.stats.texts_encoded == 10
    finally:
        await embedder.close()


async def test_a_lone_request_does_not_wait_for_the_batching_window(embedding_model):
    # A 60 s window: were the lone text held for company, the 20 s bound would fail.
    embedder = Embedder(embedding_model, window_s=60.0, max_batch=8)
    try:
        vector = await asyncio.wait_for(embedder.embed("Is there anybody out there?", "t1"), 20.0)
        assert vector.shape == (384,) and embedder.stats.batch_sizes == {1: 1}
    finally:
        await embedder.close()


async def test_texts_submitted_together_share_one_batch_without_a_window(embedding_model):
    embedder = Embedder(embedding_model, window_s=0.0, max_batch=8)
    try:
        await asyncio.gather(*(embedder.embed(f"question number {i}", "t1") for i in range(5)))
        assert embedder.stats.batch_sizes == {5: 1}
    finally:
        await embedder.close()


async def test_another_tenants_text_is_never_served_from_the_lru_or_an_encode_in_flight(embedding_model):
    """What a tenant sent must not make the same text faster for another: each tenant's lookups see
    only the vectors its own requests filled, whether finished (LRU) or still being encoded."""
    embedder = Embedder(embedding_model, window_s=0.0)
    try:
        secret = "Is the Acme merger announced on Friday?"
        mine = await embedder.embed(secret, "alice")
        theirs = await embedder.embed(secret, "bob")
        assert embedder.stats.lru_hits == 0 and embedder.stats.texts_encoded == 2
        assert np.allclose(mine, theirs, atol=1e-5)  # the same vector, computed for bob himself
        assert np.array_equal(await embedder.embed(secret, "alice"), mine) and embedder.stats.lru_hits == 1
        # Asked at the same moment, the text is encoded once per tenant, not shared between them.
        salary = "What is Bob's salary?"
        await asyncio.gather(*(embedder.embed(salary, tenant) for tenant in ("alice", "bob", "bob")))
        assert embedder.stats.texts_encoded == 4
    finally:
        await embedder.close()


async def test_the_lru_is_bounded_per_tenant_and_in_total(embedding_model):
    embedder = Embedder(embedding_model, lru_size=4, lru_per_tenant=2)
    try:
        await embedder.embed_many(["one", "two", "three"], "busy")
        await embedder.embed("quiet question", "quiet")
        encoded = embedder.stats.texts_encoded
        await embedder.embed("one", "busy")  # past its own bound of 2: its oldest went first
        assert embedder.stats.texts_encoded == encoded + 1
        await embedder.embed_many(["four", "five"], "other")
        await embedder.embed("quiet question", "quiet")  # the full LRU took from the tenants holding more
        assert embedder.stats.lru_hits == 1
    finally:
        await embedder.close()
