"""Fixtures for the semantic cache tests: the real MiniLM model (loaded once) and a cache on a temp SQLite file."""

import dataclasses

import pytest

from gateway.cache.embedder import Embedder, EmbeddingModel
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.sqlite_store import SqliteStore
from gateway.cache.verifier import Verifier
from policies.schema import CategoryPolicy


@pytest.fixture(scope="session")
def embedding_model() -> EmbeddingModel:
    return EmbeddingModel()


@pytest.fixture(scope="session")
def verifier() -> Verifier:
    return Verifier.load()


@pytest.fixture
def policy(verifier):
    """policy(**changes) -> a CategoryPolicy with the verifier threshold measured for a 2% false-hit rate."""

    def make(**changes) -> CategoryPolicy:
        base = CategoryPolicy(name="general", similarity_threshold=0.7, ttl_seconds=3600, max_entries=1000,
                              verifier_threshold=verifier.info.thresholds["0.02"])
        return dataclasses.replace(base, **changes)

    return make


@pytest.fixture
async def open_cache(tmp_path, embedding_model, verifier):
    """open_cache(path=None) -> a started SemanticCache on a SQLite file; closed after the test if still open."""
    opened: list[SemanticCache] = []

    async def make(path=None) -> SemanticCache:
        store = await SqliteStore.open(path or tmp_path / "cache.db")
        cache = SemanticCache(store, Embedder(embedding_model), verifier, maintenance_interval_s=0)
        await cache.start(progress=False)
        opened.append(cache)
        return cache

    yield make
    for cache in opened:
        await cache.close()
        await cache.embedder.close()


@pytest.fixture
async def cache(open_cache) -> SemanticCache:
    return await open_cache()
