"""The SQLite schema, as an ordered list of migrations.

A database records the version it is at in `schema_version`; opening it applies every later
migration in one transaction each, so a gateway upgrade never needs a manual step and an
interrupted upgrade leaves the database at the last complete version.
"""

from collections.abc import Awaitable, Callable

import aiosqlite


async def _v1_entries(db: aiosqlite.Connection) -> None:
    await db.execute(
        """CREATE TABLE entries (
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            namespace TEXT NOT NULL,
            category TEXT NOT NULL,
            model TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            exact_key TEXT NOT NULL,
            query_text TEXT NOT NULL,
            embedding BLOB,
            request TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            hit_count INTEGER NOT NULL DEFAULT 0,
            last_hit_at REAL
        )"""
    )
    await db.execute("CREATE INDEX entries_exact ON entries (namespace, category, exact_key)")
    await db.execute("CREATE INDEX entries_expiry ON entries (expires_at)")


async def _v2_incontext(db: aiosqlite.Connection) -> None:
    """IC-Cache: the producing model, the example utility and the examples an answer used."""
    await db.execute("ALTER TABLE entries ADD COLUMN producer_model TEXT")
    await db.execute("UPDATE entries SET producer_model = model")
    await db.execute("ALTER TABLE entries ADD COLUMN utility REAL NOT NULL DEFAULT 0")
    await db.execute("ALTER TABLE entries ADD COLUMN example_ids TEXT NOT NULL DEFAULT '[]'")
    await db.execute("CREATE INDEX entries_tenant ON entries (tenant, category)")


async def _v3_meta(db: aiosqlite.Connection) -> None:
    """Facts about the store as a whole: which embedding model its vectors come from (gateway/cache/reembed.py)."""
    await db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


async def _v4_context_vectors(db: aiosqlite.Connection) -> None:
    """Conversations: the earlier turns' and the closing offer's vectors, embedded at insert so that a lookup
    embeds only its own context (gateway/cache/context_match.py). Older entries keep NULL: embedded when read."""
    await db.execute("ALTER TABLE entries ADD COLUMN context_embedding BLOB")
    await db.execute("ALTER TABLE entries ADD COLUMN offer_embedding BLOB")


Migration = Callable[[aiosqlite.Connection], Awaitable[None]]
MIGRATIONS: list[Migration] = [_v1_entries, _v2_incontext, _v3_meta, _v4_context_vectors]
LATEST_VERSION = len(MIGRATIONS)


async def current_version(db: aiosqlite.Connection) -> int:
    await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    async with db.execute("SELECT MAX(version) FROM schema_version") as cursor:
        row = await cursor.fetchone()
    return (row[0] if row else None) or 0  # MAX over no rows is one row holding NULL


async def migrate(db: aiosqlite.Connection, target: int = LATEST_VERSION) -> int:
    """Bring the database (opened in autocommit mode) to `target`; returns the version it started at."""
    start = await current_version(db)
    if start > LATEST_VERSION:
        raise RuntimeError(
            f"the cache database is at schema version {start}, newer than this semgate ({LATEST_VERSION})"
        )
    for version in range(start + 1, target + 1):
        await db.execute("BEGIN IMMEDIATE")
        try:
            await MIGRATIONS[version - 1](db)
            await db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
    return start
