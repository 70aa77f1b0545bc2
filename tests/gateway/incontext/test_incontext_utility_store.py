"""Utility updates in both stores: atomic, clamped, and never resurrecting a deleted entry."""

import asyncio
import time

import numpy as np
import pytest

from gateway.cache.entry import CacheEntry
from gateway.cache.redis_store import RedisStore
from gateway.cache.sqlite_store import SqliteStore
from loadtest.redis_server import RedisServer, redis_server_path


def _entry() -> CacheEntry:
    return CacheEntry(tenant="t1", namespace="t1", category="code", model="m", fingerprint="f", exact_key="k",
                      query_text="q", embedding=np.ones(4, dtype=np.float32) / 2, request={}, response={"choices": []},
                      expires_at=time.time() + 600, producer_model="big")


async def _check(store) -> None:
    entry = _entry()
    await store.put(entry)
    await asyncio.gather(*(store.add_utility(entry.id, 0.5, -5.0, 5.0) for _ in range(6)))
    assert (await store.get(entry.id)).utility == pytest.approx(3.0)  # no update lost
    await store.add_utility(entry.id, 10.0, -5.0, 5.0)
    assert (await store.get(entry.id)).utility == 5.0
    await store.add_utility(entry.id, -100.0, -5.0, 5.0)
    assert (await store.get(entry.id)).utility == -5.0
    await store.delete([entry.id])
    await store.add_utility(entry.id, 1.0, -5.0, 5.0)
    assert await store.get(entry.id) is None


async def test_sqlite(tmp_path):
    store = await SqliteStore.open(tmp_path / "cache.db")
    try:
        await _check(store)
    finally:
        await store.close()


async def test_redis(tmp_path):
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path / "redis").start()
    store = await RedisStore.open(server.url)
    try:
        await _check(store)
    finally:
        await store.close()
        server.stop()
