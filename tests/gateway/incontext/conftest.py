"""A started semantic cache on a temp SQLite file, for the IC-Cache unit tests."""

import pytest

from gateway.cache.embedder import Embedder
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.sqlite_store import SqliteStore
from gateway.cache.verifier import Verifier


@pytest.fixture
async def cache(tmp_path, embedding_model):
    store = await SqliteStore.open(tmp_path / "cache.db")
    cache = SemanticCache(store, Embedder(embedding_model), Verifier.load(), maintenance_interval_s=0)
    await cache.start(progress=False)
    yield cache
    await cache.close()
    await cache.embedder.close()
