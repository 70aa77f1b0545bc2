"""The SQLite document store: migrations, round trips, exact-key replacement, eviction, expiry, listing."""

import time

import aiosqlite
import numpy as np
import pytest

from gateway.cache.entry import CacheEntry
from gateway.cache.migrations import LATEST_VERSION, MIGRATIONS, current_version
from gateway.cache.sqlite_store import SqliteStore
from gateway.cache.store import EntryQuery, HitUpdate


def entry(text: str, *, namespace="t1", category="general", exact_key=None, created_at=None, ttl=3600.0) -> CacheEntry:
    vector = np.random.default_rng(abs(hash(text)) % 2**32).standard_normal(384).astype(np.float32)
    now = time.time() if created_at is None else created_at
    return CacheEntry(tenant="t1", namespace=namespace, category=category, model="m", fingerprint="fp",
                      exact_key=exact_key or f"k-{text}", query_text=text, embedding=vector / np.linalg.norm(vector),
                      request={"messages": [{"role": "user", "content": text}]},
                      response={"choices": [{"message": {"content": f"answer to {text}"}}]},
                      expires_at=now + ttl, producer_model="big", created_at=now)


@pytest.fixture
async def store(tmp_path):
    store = await SqliteStore.open(tmp_path / "store.db")
    yield store
    await store.close()


async def test_an_entry_round_trips_with_its_embedding_and_json(store):
    original = entry("What is HNSW?")
    original.example_ids = ("e1", "e2")
    assert await store.put(original) == []
    loaded = await store.get(original.id)
    assert loaded.query_text == "What is HNSW?" and loaded.response == original.response
    assert np.array_equal(loaded.embedding, original.embedding)
    assert (loaded.producer_model, loaded.example_ids, loaded.hit_count) == ("big", ("e1", "e2"), 0)


async def test_the_conversation_vectors_round_trip_and_are_left_out_of_listings(store):
    with_history = entry("How much is it?")
    with_history.context_embedding = entry("I'm looking at the iPhone 15.").embedding
    with_history.offer_embedding = entry("Want me to check prices?").embedding
    await store.put(with_history)
    await store.put(entry("What is HNSW?"))
    loaded = await store.get_many([with_history.id])
    assert np.array_equal(loaded[with_history.id].context_embedding, with_history.context_embedding)
    assert np.array_equal(loaded[with_history.id].offer_embedding, with_history.offer_embedding)
    assert (await store.find_exact("t1", "general", "k-What is HNSW?")).context_embedding is None
    listed = (await store.list_entries(EntryQuery(tenant="t1"))).entries
    assert len(listed) == 2 and all(e.context_embedding is None and e.embedding is None for e in listed)


async def test_the_same_exact_key_replaces_the_older_answer(store):
    old, new = entry("q", exact_key="same"), entry("q", exact_key="same")
    await store.put(old)
    assert await store.put(new) == [old.id]
    assert (await store.find_exact("t1", "general", "same")).id == new.id
    assert await store.find_exact("t2", "general", "same") is None  # another namespace sees nothing


async def test_wal_mode_and_latest_schema(tmp_path, store):
    async with aiosqlite.connect(tmp_path / "store.db") as db:
        assert (await (await db.execute("PRAGMA journal_mode")).fetchone())[0] == "wal"
        assert await current_version(db) == LATEST_VERSION


async def test_an_older_database_is_migrated_and_keeps_its_entries(tmp_path):
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path, isolation_level=None) as db:  # a database written by schema version 1
        await db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        await MIGRATIONS[0](db)
        await db.execute("INSERT INTO schema_version VALUES (1)")
        await db.execute(
            "INSERT INTO entries (id, tenant, namespace, category, model, fingerprint, exact_key, query_text, embedding,"
            " request, response, created_at, expires_at, hit_count) VALUES ('old', 't1', 't1', 'general', 'gpt-x', 'fp',"
            " 'k', 'What is HNSW?', NULL, '{}', '{\"choices\": []}', 1.0, 9999999999.0, 3)")
    store = await SqliteStore.open(path)
    try:
        migrated = await store.get("old")
        assert (migrated.query_text, migrated.hit_count, migrated.producer_model) == ("What is HNSW?", 3, "gpt-x")
        assert (migrated.utility, migrated.example_ids) == (0.0, ())
        assert migrated.context_embedding is None and migrated.offer_embedding is None
        await store.put(entry("new"))  # the new columns are writable
        assert await store.count() == 2
    finally:
        await store.close()
    async with aiosqlite.connect(path) as db:
        assert await current_version(db) == LATEST_VERSION


@pytest.mark.parametrize(("policy", "survivor"), [("lru", "recently used"), ("lfu", "often used")])
async def test_eviction_keeps_the_quota_and_drops_by_policy(store, policy, survivor):
    now = time.time()
    often = entry("often used", created_at=now - 30)
    recent = entry("recently used", created_at=now - 20)
    idle = entry("idle", created_at=now - 10)
    for e in (often, recent, idle):
        await store.put(e)
    await store.record_hits([HitUpdate(often.id, 5, now - 25), HitUpdate(recent.id, 1, now - 1)])
    evicted = await store.evict("t1", "general", keep=1, policy=policy)
    assert len(evicted) == 2 and await store.count("t1", "general") == 1
    (kept,) = (await store.list_entries(EntryQuery(namespace="t1"))).entries
    assert kept.query_text == survivor


async def test_expire_deletes_only_entries_past_their_ttl(store):
    await store.put(entry("stale", ttl=-1))
    fresh = entry("fresh")
    await store.put(fresh)
    assert len(await store.expire(time.time())) == 1
    assert [e.id async for e in store.iter_all()] == [fresh.id]


async def test_listing_filters_and_pages(store):
    for i in range(5):
        await store.put(entry(f"python question {i}", category="code"))
    await store.put(entry("weather today", category="time"))
    first = await store.list_entries(EntryQuery(category="code", limit=2))
    assert first.total == 5 and len(first.entries) == 2 and first.next_offset == 2
    last = await store.list_entries(EntryQuery(category="code", limit=2, offset=4))
    assert len(last.entries) == 1 and last.next_offset is None
    found = await store.list_entries(EntryQuery(text_contains="WEATHER"))
    assert [e.query_text for e in found.entries] == ["weather today"]
    assert await store.count_by_namespace() == {("t1", "code"): 5, ("t1", "time"): 1}
