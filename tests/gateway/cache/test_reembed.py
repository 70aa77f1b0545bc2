"""A store whose vectors another embedding model wrote is embedded again at start (gateway/cache/reembed.py),
on SQLite and on Redis; a store of this model's vectors is left as it is."""

import time

import numpy as np
import pytest

from gateway.cache.embedder import Embedder
from gateway.cache.entry import CacheEntry
from gateway.cache.fingerprint import request_key
from gateway.cache.reembed import EMBEDDING_META
from gateway.cache.semantic_cache import SEMANTIC, SemanticCache
from gateway.cache.sqlite_store import SqliteStore
from loadtest.redis_server import RedisServer, redis_server_path

QUESTION = "How do I reverse a linked list in Python?"


def _entry(text: str, ttl: float = 3600.0) -> CacheEntry:
    """An entry whose vector is not its question's: what another model's vectors look like to ours."""
    vector = np.random.default_rng(len(text)).standard_normal(384).astype(np.float32)
    request = _ask(text)
    key = request_key(request)
    return CacheEntry(tenant="t1", namespace="t1", category="general", model="m", fingerprint=key.fingerprint,
                      exact_key=key.exact_key, query_text=text, embedding=vector / np.linalg.norm(vector),
                      request=request,
                      response={"choices": [{"message": {"content": f"answer to {text}"}}]},
                      expires_at=time.time() + ttl, producer_model="m", hit_count=7)


def _ask(text: str) -> dict:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request, tmp_path):
    """open_store() -> the same store each call (SQLite file or Redis server), reopened."""
    if request.param == "redis":
        if redis_server_path() is None:
            pytest.skip("redis-server is not installed (.ci/run installs the Debian package)")
        from gateway.cache.redis_store import RedisStore

        server = RedisServer(tmp_path / "redis").start()
        yield lambda: RedisStore.open(server.url)
        server.stop()
    else:
        yield lambda: SqliteStore.open(tmp_path / "cache.db")


async def _started(store, embedding_model, verifier) -> SemanticCache:
    cache = SemanticCache(store, Embedder(embedding_model), verifier, maintenance_interval_s=0)
    await cache.start(progress=False)
    return cache


async def _close(cache: SemanticCache) -> None:
    await cache.close()
    await cache.embedder.close()


@pytest.mark.parametrize("recorded", [None, "all-MiniLM-L6-v2/fp32"])
async def test_vectors_of_another_model_are_embedded_again_and_the_rest_is_kept(open_store, embedding_model,
                                                                                 verifier, policy, recorded):
    store = await open_store()
    kept, gone = _entry(QUESTION), _entry("What is the capital of France?", ttl=-1)
    await store.put(kept)
    await store.put(gone)
    if recorded is not None:  # None: written before semgate recorded it (fp32 then)
        await store.set_meta(EMBEDDING_META, recorded)
    cache = await _started(store, embedding_model, verifier)
    try:
        assert await store.get_meta(EMBEDDING_META) == embedding_model.identity
        again = await store.get(kept.id)
        assert float(again.embedding @ embedding_model.encode([QUESTION])[0]) > 0.9999
        assert (again.response, again.hit_count, again.expires_at) == (kept.response, 7, kept.expires_at)
        assert await store.get(gone.id) is None  # expired: deleted, not embedded
        paraphrase = "How can I reverse a linked list in Python?"
        result = await cache.lookup("t1", policy(), _ask(paraphrase), embedding_model.encode([paraphrase])[0])
        assert result.reason == SEMANTIC and result.entry.id == kept.id
    finally:
        await _close(cache)


async def test_a_store_of_this_models_vectors_is_left_alone(open_store, embedding_model, verifier):
    store = await open_store()
    cache = await _started(store, embedding_model, verifier)  # an empty store records the model at once
    await _close(cache)
    store = await open_store()
    odd = _entry(QUESTION)
    await store.put(odd)
    cache = await _started(store, embedding_model, verifier)
    try:
        assert np.array_equal((await store.get(odd.id)).embedding, odd.embedding)  # nothing embedded again
        assert odd.id in cache.index
    finally:
        await _close(cache)


async def test_a_conversations_context_and_offer_are_embedded_again_too(open_store, embedding_model, verifier):
    store = await open_store()
    history = [{"role": "user", "content": "I'm looking at the iPhone 15."},
               {"role": "assistant", "content": "Great phone. Want me to check prices?"}]
    asked = _entry("How much is it?")
    asked.request = {"model": "m", "messages": [*history, {"role": "user", "content": "How much is it?"}]}
    asked.context_embedding = asked.offer_embedding = asked.embedding  # another model's vectors
    await store.put(asked)
    cache = await _started(store, embedding_model, verifier)
    try:
        again = await store.get(asked.id)
        context, offer = embedding_model.encode(["I'm looking at the iPhone 15.", "Want me to check prices?"],
                                                as_written=True)  # as the context check embeds them
        assert float(again.context_embedding @ context) > 0.9999 and float(again.offer_embedding @ offer) > 0.9999
    finally:
        await _close(cache)
