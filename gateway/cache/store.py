"""The document store protocol: the source of truth for cache entries.

The HNSW index is derived from it and rebuilt from it at start. SQLite is the embedded
implementation (`SqliteStore`); a shared store for several gateway replicas implements the
same protocol.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.cache.entry import CacheEntry


@dataclass(frozen=True)
class EntryQuery:
    """A filter over entries for listing (admin API). None means any."""

    tenant: str | None = None
    namespace: str | None = None
    category: str | None = None
    model: str | None = None
    text_contains: str | None = None
    include_expired: bool = True
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class EntryPage:
    entries: list[CacheEntry]  # without embeddings
    total: int
    next_offset: int | None


@dataclass(frozen=True)
class HitUpdate:
    entry_id: str
    hits: int
    last_hit_at: float


class DocumentStore(Protocol):
    async def put(self, entry: CacheEntry) -> list[str]:
        """Commit the entry; returns the ids it replaced (same namespace, category and exact key)."""

    async def get(self, entry_id: str) -> CacheEntry | None:
        """One entry, read as a batch of one, so that `get` and `get_many` can never disagree."""
        return (await self.get_many([entry_id])).get(entry_id)

    async def get_many(self, entry_ids: Sequence[str]) -> dict[str, CacheEntry]: ...

    async def find_exact(self, namespace: str, category: str, exact_key: str) -> CacheEntry | None:
        """The newest entry with this exact key, expired or not (the caller decides)."""

    async def find_exact_in(self, spaces: Sequence[tuple[str, str]], exact_key: str) -> list[CacheEntry]:
        """Every entry with `exact_key` in one of the (namespace, category) spaces."""

    async def delete(self, entry_ids: Sequence[str]) -> int: ...

    async def record_hits(self, updates: Sequence[HitUpdate]) -> None: ...

    async def set_utility(self, entry_id: str, utility: float) -> None: ...

    async def add_utility(self, entry_id: str, delta: float, low: float, high: float) -> None:
        """Add `delta` to an entry's utility, clamped to [low, high], in one atomic step (feedback
        from several requests or replicas must not lose updates); a missing entry is left alone."""

    def iter_all(self, batch_size: int = 2000) -> AsyncIterator[CacheEntry]:
        """Every entry with its embedding, in insertion order (to rebuild the index)."""

    async def count(self, namespace: str | None = None, category: str | None = None) -> int: ...

    async def count_by_namespace(self) -> dict[tuple[str, str], int]: ...

    async def evict(
        self, namespace: str, category: str, keep: int, policy: str, protect: Sequence[str] = ()
    ) -> list[str]:
        """Delete the least recently ("lru") or least frequently ("lfu") used entries of a
        namespace until `keep` remain, never one in `protect`; returns the deleted ids."""

    async def expire(self, before: float) -> list[str]:
        """Delete entries that expired before `before`; returns their ids."""

    async def list_entries(self, query: EntryQuery) -> EntryPage: ...

    async def get_meta(self, key: str) -> str | None:
        """A value the cache records about the store as a whole (which vectors it holds); None if unset."""

    async def set_meta(self, key: str, value: str) -> None: ...

    async def close(self) -> None: ...


class StoreUnavailable(RuntimeError):
    """The store cannot be reached (a shared store that is down); the cache is read-only until it returns."""

    def __init__(self, message: str, cause: str | None = None) -> None:
        super().__init__(message)
        self.cause = cause  # in a few words, for /healthz ("full", "read-only", ...)
