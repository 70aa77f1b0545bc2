"""The Redis document store against a real redis-server: the store protocol, native TTL, quotas,
the change stream another replica reads, and the read-only mode while Redis is away."""

import asyncio
import time
from collections.abc import Awaitable, Callable

import numpy as np
import pytest
from redis.asyncio import Redis

from gateway.cache.entry import CacheEntry
from gateway.cache.redis_store import DEGRADED, RedisStore
from gateway.cache.store import StoreUnavailable
from gateway.cache.store import EntryQuery, HitUpdate


def entry(text: str, *, namespace="t1", category="general", exact_key=None, ttl=3600.0, tenant="t1") -> CacheEntry:
    vector = np.random.default_rng(abs(hash(text)) % 2**32).standard_normal(384).astype(np.float32)
    return CacheEntry(tenant=tenant, namespace=namespace, category=category, model="m", fingerprint="fp",
                      exact_key=exact_key or f"k-{text}", query_text=text, embedding=vector / np.linalg.norm(vector),
                      request={"messages": [{"role": "user", "content": text}]},
                      response={"choices": [{"message": {"content": f"answer to {text}"}}]},
                      expires_at=time.time() + ttl, producer_model="big")


@pytest.fixture
async def open_store(redis_server):
    """open_store(**options) -> a RedisStore on the test's redis-server (a replica of its own)."""
    opened: list[RedisStore] = []

    async def make(**options) -> RedisStore:
        store = await RedisStore.open(redis_server.url, **options)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


async def test_entries_round_trip_and_an_exact_key_keeps_only_the_newest(open_store):
    store = await open_store()
    old, new = entry("What is HNSW?", exact_key="same"), entry("What is HNSW?", exact_key="same")
    old.example_ids = ("e1",)
    assert await store.put(old) == []
    loaded = await store.get(old.id)
    assert (loaded.query_text, loaded.response, loaded.example_ids) == ("What is HNSW?", old.response, ("e1",))
    assert np.array_equal(loaded.embedding, old.embedding)
    assert loaded.context_embedding is None and loaded.offer_embedding is None
    assert await store.put(new) == [old.id]
    assert await store.get(old.id) is None
    assert (await store.find_exact("t1", "general", "same")).id == new.id
    assert await store.find_exact("t2", "general", "same") is None  # another namespace sees nothing
    assert await store.count() == 1 and await store.count_by_namespace() == {("t1", "general"): 1}


async def test_the_conversation_vectors_round_trip(open_store):
    store = await open_store()
    with_history = entry("How much is it?")
    with_history.context_embedding = entry("I'm looking at the iPhone 15.").embedding
    with_history.offer_embedding = entry("Want me to check prices?").embedding
    await store.put(with_history)
    loaded = await store.get(with_history.id)
    assert np.array_equal(loaded.context_embedding, with_history.context_embedding)
    assert np.array_equal(loaded.offer_embedding, with_history.offer_embedding)


async def test_redis_expires_entries_itself_and_the_sweep_tells_the_replicas(open_store, redis_server):
    store = await open_store()
    short, long = entry("short-lived", ttl=0.3), entry("long-lived")
    await store.put(short)
    await store.put(long)
    position = await store.change_position()
    await asyncio.sleep(0.5)
    raw = Redis.from_url(redis_server.url)
    assert await raw.exists(store.key("e", short.id)) == 0  # gone by Redis' own TTL, no sweep needed
    await raw.aclose()
    assert await store.get(short.id) is None
    assert await store.find_exact("t1", "general", short.exact_key) is None
    assert await store.expire(time.time()) == [short.id]
    assert await store.expire(time.time()) == []  # a second sweeper (another replica) finds nothing left
    changes = await (await open_store()).read_changes(position, block_ms=10, count=10)
    assert [(c.op, c.removed) for c in changes] == [("expire", (short.id,))]
    assert await store.count() == 1


@pytest.mark.parametrize(("policy", "survivor"), [("lru", "recently used"), ("lfu", "often used")])
async def test_eviction_keeps_the_quota_and_drops_by_policy(open_store, policy, survivor):
    store = await open_store()
    entries = {name: entry(name) for name in ("often used", "recently used", "idle a", "idle b")}
    for e in entries.values():
        await store.put(e)
    now = time.time()
    await store.record_hits([HitUpdate(entries["often used"].id, 9, now - 100),
                             HitUpdate(entries["recently used"].id, 1, now)])
    evicted = await store.evict("t1", "general", keep=1, policy=policy)
    assert len(evicted) == 3 and await store.count() == 1
    assert (await store.get(entries[survivor].id)) is not None
    with pytest.raises(ValueError):
        await store.evict("t1", "general", keep=1, policy="random")


async def test_eviction_spares_the_protected_entry(open_store: Callable[..., Awaitable[RedisStore]]) -> None:
    """The cache protects the entry it has just stored (no hits yet: LFU's first pick)."""
    store = await open_store()
    newest, *others = [entry(name) for name in ("just stored", "used a", "used b")]
    for e in others:
        await store.put(e)
    await store.record_hits([HitUpdate(e.id, 1, time.time()) for e in others])
    await store.put(newest)
    evicted = await store.evict("t1", "general", keep=2, policy="lfu", protect=[newest.id])
    assert len(evicted) == 1 and newest.id not in evicted
    assert await store.get(newest.id) is not None and await store.count() == 2


async def test_another_replica_reads_every_change_with_the_whole_entry(open_store):
    writer, reader = await open_store(), await open_store()
    start = await reader.change_position()
    first, second = entry("first"), entry("second")
    await writer.put(first)
    await writer.put(second)
    await writer.delete([first.id])
    changes = await reader.read_changes(start, block_ms=10, count=10)
    assert [c.op for c in changes] == ["put", "put", "delete"]
    assert {c.origin for c in changes} == {writer.origin} != {reader.origin}
    assert changes[1].entry.query_text == "second" and np.array_equal(changes[1].entry.embedding, second.embedding)
    assert changes[2].removed == (first.id,)
    # The reader now holds the second entry in memory: its fallback while Redis is away.
    assert reader.local.get_many([second.id, first.id]).keys() == {second.id}


async def test_a_trimmed_stream_is_detected_so_the_replica_rebuilds(open_store):
    store = await open_store(stream_maxlen=10)
    position = await store.change_position()
    for i in range(3):
        await store.put(entry(f"q{i}"))
    assert not await store.changes_lost_since(position)
    for i in range(300):  # approximate trimming drops whole stream nodes (100 changes each)
        await store.put(entry(f"more {i}"))
    assert await store.changes_lost_since(position)
    assert not await store.changes_lost_since(await store.change_position())


async def test_listing_filters_and_pages_newest_first(open_store):
    store = await open_store()
    for i in range(5):
        owner = "acme" if i % 2 else "zeta"
        await store.put(entry(f"question {i}", tenant=owner, namespace=owner))
    page = await store.list_entries(EntryQuery(limit=2))
    assert [e.query_text for e in page.entries] == ["question 4", "question 3"] and page.total == 5
    assert page.next_offset == 2 and page.entries[0].embedding is None
    acme = await store.list_entries(EntryQuery(tenant="acme"))
    assert [e.query_text for e in acme.entries] == ["question 3", "question 1"] and acme.next_offset is None
    assert (await store.list_entries(EntryQuery(namespace="zeta", text_contains="QUESTION 2"))).total == 1
    assert [e.query_text async for e in store.iter_all(batch_size=2)] == [f"question {i}" for i in range(5)]


async def test_without_redis_the_store_is_read_only_from_memory_and_resyncs(open_store, redis_server):
    store = await open_store()
    kept = entry("kept in memory")
    await store.put(kept)
    redis_server.kill()
    assert (await store.find_exact("t1", "general", kept.exact_key)).id == kept.id
    assert (await store.get_many([kept.id]))[kept.id].response == kept.response
    assert store.health == DEGRADED
    with pytest.raises(StoreUnavailable):
        await store.put(entry("new"))
    await store.record_hits([HitUpdate(kept.id, 2, time.time())])  # kept for later, never raises
    assert await store.expire(time.time()) == []
    with pytest.raises(StoreUnavailable):
        await store.probe()
    redis_server.restart()  # no persistence: an empty Redis comes back
    assert await store.probe() is True  # a different data set: the replica must rebuild
    store.mark_available()
    assert store.health == "ok" and await store.count() == 0
    assert await store.find_exact("t1", "general", kept.exact_key) is None  # memory no longer answers for it
    await store.put(entry("after the restart"))
    assert await store.count() == 1
