"""The embedded document store: SQLite in WAL mode through aiosqlite.

WAL lets the index rebuild and admin listings read while the gateway writes. Every write
is its own short transaction, committed before the caller makes the entry visible anywhere
else, so a crash never leaves an entry that the index knows and the store does not.
One connection serves all calls; a lock keeps one coroutine's transaction from
interleaving with another's statements (and reads from seeing uncommitted rows).

A write the store cannot take (locked by another process past the busy timeout, full at
`max_bytes` or on disk, read-only) raises StoreUnavailable naming the cause; the transaction
is rolled back whole, so no partial entry remains.
"""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
import numpy as np
import orjson

from gateway.cache.entry import CacheEntry
from gateway.cache.migrations import migrate
from gateway.cache.store import DocumentStore, EntryPage, EntryQuery, HitUpdate, StoreUnavailable

_COLUMN_NAMES = (
    "id",
    "tenant",
    "namespace",
    "category",
    "model",
    "fingerprint",
    "exact_key",
    "query_text",
    "embedding",
    "request",
    "response",
    "created_at",
    "expires_at",
    "hit_count",
    "last_hit_at",
    "utility",
    "producer_model",
    "example_ids",
    "context_embedding",
    "offer_embedding",
)
_VECTORS = {"embedding", "context_embedding", "offer_embedding"}
_COLUMNS = ", ".join(_COLUMN_NAMES)
_PLACEHOLDERS = ", ".join("?" * len(_COLUMN_NAMES))
# Listings show entries, not their vectors: NULL in their place keeps the row shape _entry reads.
_LISTING_COLUMNS = ", ".join("NULL" if name in _VECTORS else name for name in _COLUMN_NAMES)
# SQLite result codes (extended ones start with these) and what they mean to an operator.
_UNAVAILABLE = {
    "SQLITE_BUSY": "locked by another writer",
    "SQLITE_LOCKED": "locked by another writer",
    "SQLITE_FULL": "full",
    "SQLITE_READONLY": "read-only",
    "SQLITE_IOERR": "failing to write to disk",
    "SQLITE_CANTOPEN": "not writable",
}
_EVICTION_ORDER = {
    "lru": "COALESCE(last_hit_at, created_at) ASC",
    "lfu": "hit_count ASC, COALESCE(last_hit_at, created_at) ASC",
}


class SqliteStore(DocumentStore):
    def __init__(self, db: aiosqlite.Connection, path: str = ":memory:") -> None:
        self._db = db
        self._path = path
        self._lock = asyncio.Lock()
        # Why the last write failed ("full", "read-only", ...); None once one succeeds. /healthz reports it:
        # a store that cannot take writes still serves hits, but the cache no longer learns.
        self.write_failure: str | None = None
        # The lookups' point reads (a few rows by primary key or exact key, well under a millisecond)
        # run on the event loop through a read-only connection of their own: a hop to aiosqlite's
        # thread and back costs more than the read, and on a busy CPU it waits for the scheduler.
        # WAL readers never wait for the writer and see only committed rows.
        self._reader: sqlite3.Connection | None = None
        if path != ":memory:":
            self._reader = sqlite3.connect(
                f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            self._reader.execute("PRAGMA busy_timeout=100")

    @classmethod
    async def open(cls, path: str | Path, synchronous: str = "NORMAL", max_bytes: int | None = None) -> "SqliteStore":
        """Open (creating and migrating as needed) the database at `path` (":memory:" for tests).

        synchronous=NORMAL in WAL mode survives a crash of the gateway process; FULL also
        survives a power cut, at the cost of an fsync per write. `max_bytes` caps the
        database file: past it, writes fail as "full" (and the cache stops storing).
        """
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(f"PRAGMA synchronous={synchronous}")
        await db.execute("PRAGMA busy_timeout=5000")
        await migrate(db)
        if max_bytes is not None:
            page_size = next(iter(await db.execute_fetchall("PRAGMA page_size")))[0]
            await db.execute(f"PRAGMA max_page_count={max(int(max_bytes) // page_size, 1)}")
        return cls(db, str(path))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        await self._db.close()

    async def put(self, entry: CacheEntry) -> list[str]:
        key = (entry.namespace, entry.category, entry.exact_key)
        async with self._transaction():
            replaced = await self._ids("SELECT id FROM entries WHERE namespace=? AND category=? AND exact_key=?", key)
            await self._delete(replaced)
            await self._db.execute(f"INSERT INTO entries ({_COLUMNS}) VALUES ({_PLACEHOLDERS})", _row(entry))
        return replaced

    async def get_many(self, entry_ids: Sequence[str]) -> dict[str, CacheEntry]:
        if not entry_ids:
            return {}
        marks = ", ".join("?" * len(entry_ids))
        rows = await self._point_read(f"SELECT {_COLUMNS} FROM entries WHERE id IN ({marks})", list(entry_ids))
        return {row[0]: _entry(row) for row in rows}

    async def find_exact(self, namespace: str, category: str, exact_key: str) -> CacheEntry | None:
        rows = await self._point_read(
            f"SELECT {_COLUMNS} FROM entries WHERE namespace=? AND category=? AND exact_key=? "
            "ORDER BY created_at DESC LIMIT 1",
            (namespace, category, exact_key),
        )
        return _entry(rows[0]) if rows else None

    async def find_exact_in(self, spaces: Sequence[tuple[str, str]], exact_key: str) -> list[CacheEntry]:
        """Entries with `exact_key` in any of the (namespace, category) spaces, in one indexed query."""
        namespaces, categories = sorted({n for n, _ in spaces}), sorted({c for _, c in spaces})
        rows = await self._point_read(
            f"SELECT {_COLUMNS} FROM entries WHERE namespace IN ({', '.join('?' * len(namespaces))}) "
            f"AND category IN ({', '.join('?' * len(categories))}) AND exact_key=?",
            (*namespaces, *categories, exact_key),
        )
        wanted = set(spaces)
        return [entry for entry in map(_entry, rows) if (entry.namespace, entry.category) in wanted]

    async def delete(self, entry_ids: Sequence[str]) -> int:
        async with self._transaction():
            return await self._delete(entry_ids)

    async def record_hits(self, updates: Sequence[HitUpdate]) -> None:
        if not updates:
            return
        async with self._transaction():
            await self._db.executemany(
                "UPDATE entries SET hit_count = hit_count + ?, last_hit_at = MAX(COALESCE(last_hit_at, 0), ?)"
                " WHERE id=?",
                [(u.hits, u.last_hit_at, u.entry_id) for u in updates],
            )

    async def set_utility(self, entry_id: str, utility: float) -> None:
        async with self._transaction():
            await self._db.execute("UPDATE entries SET utility=? WHERE id=?", (utility, entry_id))

    async def add_utility(self, entry_id: str, delta: float, low: float, high: float) -> None:
        async with self._lock:
            await self._db.execute(
                "UPDATE entries SET utility = MAX(?, MIN(?, utility + ?)) WHERE id=?", (low, high, delta, entry_id)
            )

    async def iter_all(self, batch_size: int = 2000) -> AsyncIterator[CacheEntry]:
        after = 0
        while True:
            async with self._lock:
                rows = list(
                    await self._db.execute_fetchall(
                        f"SELECT rowid, {_COLUMNS} FROM entries WHERE rowid > ? ORDER BY rowid LIMIT ?",
                        (after, batch_size),
                    )
                )
            if not rows:
                return
            for row in rows:
                yield _entry(row[1:])
            after = rows[-1][0]

    async def count(self, namespace: str | None = None, category: str | None = None) -> int:
        async with self._lock:
            return await self._count(namespace, category)

    async def count_by_namespace(self) -> dict[tuple[str, str], int]:
        async with self._lock:
            rows = await self._db.execute_fetchall("SELECT namespace, category, COUNT(*) FROM entries GROUP BY 1, 2")
        return {(ns, cat): n for ns, cat, n in rows}

    async def evict(
        self, namespace: str, category: str, keep: int, policy: str, protect: Sequence[str] = ()
    ) -> list[str]:
        if policy not in _EVICTION_ORDER:
            raise ValueError(f"eviction must be one of {sorted(_EVICTION_ORDER)}, got {policy!r}")
        spared = f" AND id NOT IN ({', '.join('?' * len(protect))})" if protect else ""
        async with self._transaction():
            excess = await self._count(namespace, category) - keep
            victims = await self._ids(
                f"SELECT id FROM entries WHERE namespace=? AND category=?{spared} "
                f"ORDER BY {_EVICTION_ORDER[policy]} LIMIT ?",
                (namespace, category, *protect, max(excess, 0)),
            )
            await self._delete(victims)
        return victims

    async def expire(self, before: float) -> list[str]:
        async with self._transaction():
            victims = await self._ids("SELECT id FROM entries WHERE expires_at < ?", (before,))
            await self._delete(victims)
        return victims

    async def list_entries(self, query: EntryQuery) -> EntryPage:
        where, params = _where(
            tenant=query.tenant, namespace=query.namespace, category=query.category, model=query.model
        )
        if query.text_contains:
            where += (" AND" if where else " WHERE") + " instr(lower(query_text), lower(?)) > 0"
            params.append(query.text_contains)
        if not query.include_expired:
            where += (" AND" if where else " WHERE") + " expires_at > strftime('%s', 'now')"
        async with self._lock:
            total = next(iter(await self._db.execute_fetchall(f"SELECT COUNT(*) FROM entries{where}", params)))[0]
            rows = list(
                await self._db.execute_fetchall(
                    f"SELECT {_LISTING_COLUMNS} FROM entries{where} ORDER BY created_at DESC LIMIT ? OFFSET ?",
                    [*params, query.limit, query.offset],
                )
            )
        end = query.offset + len(rows)
        return EntryPage([_entry(r) for r in rows], total, end if end < total else None)

    async def get_meta(self, key: str) -> str | None:
        rows = await self._point_read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    async def set_meta(self, key: str, value: str) -> None:
        async with self._transaction():
            await self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    async def _point_read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        if self._reader is not None:
            try:
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # busy past 100 ms (a checkpoint): take the queued path
                pass
        async with self._lock:
            return list(await self._db.execute_fetchall(sql, params))

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        async with self._lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                    await self._db.execute("COMMIT")
                except BaseException:
                    if self._db.in_transaction:  # SQLite already rolled back on some errors (SQLITE_FULL)
                        await self._db.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                error = self._unavailable(exc)
                if isinstance(error, StoreUnavailable):
                    self.write_failure = error.cause
                raise error from exc
            self.write_failure = None

    @property
    def health(self) -> str:
        """ "ok", or "degraded (full)" and the like while writes fail: hits are served, nothing new is stored."""
        return "ok" if self.write_failure is None else f"degraded ({self.write_failure})"

    def _unavailable(self, exc: sqlite3.OperationalError) -> Exception:
        """StoreUnavailable for a store that cannot take writes now; other errors as they are."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        cause = next((why for code, why in _UNAVAILABLE.items() if name.startswith(code)), None)
        if cause is None:
            return exc
        return StoreUnavailable(f"sqlite store {self._path} is {cause} ({exc})", cause)

    async def _ids(self, sql: str, params: Sequence[Any]) -> list[str]:
        return [row[0] for row in await self._db.execute_fetchall(sql, params)]

    async def _count(self, namespace: str | None, category: str | None) -> int:
        where, params = _where(namespace=namespace, category=category)
        return next(iter(await self._db.execute_fetchall(f"SELECT COUNT(*) FROM entries{where}", params)))[0]

    async def _delete(self, entry_ids: Sequence[str]) -> int:
        deleted = 0
        for start in range(0, len(entry_ids), 500):  # SQLite caps the number of bound parameters
            chunk = list(entry_ids[start : start + 500])
            cursor = await self._db.execute(f"DELETE FROM entries WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
            deleted += cursor.rowcount
        return deleted


def _where(**filters: str | None) -> tuple[str, list[Any]]:
    used = {k: v for k, v in filters.items() if v is not None}
    if not used:
        return "", []
    return " WHERE " + " AND ".join(f"{k}=?" for k in used), list(used.values())


def _row(e: CacheEntry) -> tuple[Any, ...]:
    return (
        e.id,
        e.tenant,
        e.namespace,
        e.category,
        e.model,
        e.fingerprint,
        e.exact_key,
        e.query_text,
        _blob(e.embedding),
        orjson.dumps(e.request).decode(),
        orjson.dumps(e.response).decode(),
        e.created_at,
        e.expires_at,
        e.hit_count,
        e.last_hit_at,
        e.utility,
        e.producer_model,
        orjson.dumps(list(e.example_ids)).decode(),
        _blob(e.context_embedding),
        _blob(e.offer_embedding),
    )


def _entry(row: Sequence[Any]) -> CacheEntry:
    (
        id_,
        tenant,
        namespace,
        category,
        model,
        fingerprint,
        exact_key,
        query_text,
        blob,
        request,
        response,
        created_at,
        expires_at,
        hit_count,
        last_hit_at,
        utility,
        producer_model,
        example_ids,
        context_blob,
        offer_blob,
    ) = row
    return CacheEntry(
        id=id_,
        tenant=tenant,
        namespace=namespace,
        category=category,
        model=model,
        fingerprint=fingerprint,
        exact_key=exact_key,
        query_text=query_text,
        embedding=_vector(blob),
        request=orjson.loads(request),
        response=orjson.loads(response),
        created_at=created_at,
        expires_at=expires_at,
        hit_count=hit_count,
        last_hit_at=last_hit_at,
        utility=utility,
        producer_model=producer_model or model,
        example_ids=tuple(orjson.loads(example_ids)),
        context_embedding=_vector(context_blob),
        offer_embedding=_vector(offer_blob),
    )


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype=np.float32).copy()
