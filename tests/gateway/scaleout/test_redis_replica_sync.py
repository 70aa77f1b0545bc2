"""The change-stream follower: a replica cut off from Redis (alone: the others keep writing) resumes
where it stopped, or rebuilds its mirror when the capped stream dropped what it missed."""

import asyncio
import contextlib
import socket
import time

import numpy as np
import pytest

from gateway.cache.embedder import Embedder
from gateway.cache.entry import CacheEntry
from gateway.cache.redis_store import RedisStore
from gateway.cache.replica_sync import ReplicaSync
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.verifier import Verifier


class CuttableLink:
    """A TCP relay in front of Redis for one replica: `cut()` is a network partition, `restore()` ends it."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()

    async def _relay(self, client_reader, client_writer) -> None:
        redis_reader, redis_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers |= {client_writer, redis_writer}
        await asyncio.gather(_pipe(client_reader, redis_writer), _pipe(redis_reader, client_writer))


async def _pipe(reader, writer) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


def entry(i: int) -> CacheEntry:
    vector = np.random.default_rng(i).standard_normal(384).astype(np.float32)
    return CacheEntry(tenant="t1", namespace="t1", category="general", model="m", fingerprint="fp",
                      exact_key=f"k{i}", query_text=f"question {i}", embedding=vector / np.linalg.norm(vector),
                      request={}, response={"choices": []}, expires_at=time.time() + 3600, producer_model="m")


@pytest.fixture
async def replicas(redis_server, embedding_model):
    """(writer store, follower cache, follower sync, the follower's cuttable link); stream capped at 10."""
    link = CuttableLink(redis_server.port)
    await link.restore()
    writer = await RedisStore.open(redis_server.url, stream_maxlen=10)
    store = await RedisStore.open(f"redis://127.0.0.1:{link.port}/0", stream_maxlen=10)
    cache = SemanticCache(store, Embedder(embedding_model), Verifier.load(), maintenance_interval_s=0)
    sync = ReplicaSync(cache, store, block_ms=200, retry_s=0.05)
    await sync.start(progress=False)
    yield writer, cache, sync, link
    await sync.close()
    await cache.close()
    await cache.embedder.close()
    await writer.close()


async def until(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_changes_arrive_while_connected_and_after_a_short_cut(replicas):
    writer, cache, sync, link = replicas
    await writer.put(entry(1))
    await until(lambda: len(cache.index) == 1)
    await link.cut()
    await until(lambda: not cache.store.available)
    for i in range(2, 5):  # fewer than the stream keeps
        await writer.put(entry(i))
    await link.restore()
    await until(lambda: len(cache.index) == 4)
    assert sync.stats.rebuilds == 1  # the one at start: it resumed from its position
    assert cache.store.available


async def test_a_replica_that_missed_trimmed_changes_rebuilds_its_mirror(replicas):
    writer, cache, sync, link = replicas
    stored = [entry(i) for i in range(3)]
    for e in stored:
        await writer.put(e)
    await until(lambda: len(cache.index) == 3)
    await link.cut()
    await until(lambda: not cache.store.available)
    await writer.delete([stored[0].id])
    for i in range(100, 400):  # far more than the 10 changes the stream keeps
        await writer.put(entry(i))
    await link.restore()
    await until(lambda: sync.stats.rebuilds == 2 and len(cache.index) == 302)
    assert stored[0].id not in cache.index and stored[1].id in cache.index


async def test_a_replica_started_while_redis_is_away_indexes_the_store_once_it_returns(redis_server, embedding_model):
    link = CuttableLink(redis_server.port)  # not listening yet: Redis is unreachable for this replica
    writer = await RedisStore.open(redis_server.url)
    await writer.put(entry(1))
    store = await RedisStore.open(f"redis://127.0.0.1:{link.port}/0")
    cache = SemanticCache(store, Embedder(embedding_model), Verifier.load(), maintenance_interval_s=0)
    sync = ReplicaSync(cache, store, block_ms=200, retry_s=0.05)
    try:
        assert await sync.start(progress=False) == 0 and store.health != "ok"
        await link.restore()
        await until(lambda: store.available and len(cache.index) == 1)
        await writer.put(entry(2))
        await until(lambda: len(cache.index) == 2)
    finally:
        await sync.close()
        await cache.close()
        await cache.embedder.close()
        await writer.close()
