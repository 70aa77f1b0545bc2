"""Stored responses (`store: true`): what `previous_response_id`, `GET` and `DELETE /v1/responses/{id}` read.

A record is keyed by (tenant, id) and holds the whole conversation up to its request (the input
items of every earlier turn and their outputs, then this turn's input) and the response object,
so one read resolves a `previous_response_id` to everything the model saw and said. Another
tenant's id reads exactly like an unknown one: same None, same error, so ids leak nothing.
Records expire after `ttl_s` and each tenant keeps at most `max_per_tenant` (its oldest go first).
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import orjson

from gateway.protocols.errors import ProtocolError
from gateway.protocols.responses_request import ResponsesRequest

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS stored_responses (tenant TEXT NOT NULL, id TEXT NOT NULL, "
        "created_at REAL NOT NULL, expires_at REAL NOT NULL, conversation BLOB NOT NULL, "
        "response BLOB NOT NULL, PRIMARY KEY (tenant, id))"
    ),
    "CREATE INDEX IF NOT EXISTS stored_responses_age ON stored_responses (tenant, created_at)",
    "CREATE INDEX IF NOT EXISTS stored_responses_expiry ON stored_responses (expires_at)",
)


@dataclass
class StoredResponse:
    id: str
    conversation: list[dict[str, Any]]  # input items of every turn up to and including this one's
    response: dict[str, Any]  # the Responses object as the client got it

    def items_after(self) -> list[dict[str, Any]]:
        """The conversation a request naming this response as previous continues from."""
        return [*self.conversation, *self.response.get("output", [])]


def path_beside(cache_store: str) -> Path:
    """Where the gateway keeps stored responses: beside the cache's SQLite file (`var/semgate.responses.db`
    for the default), or in var/ when the cache store is a redis:// URL (then each replica keeps its own)."""
    if "://" in cache_store:
        return Path("var/semgate.responses.db")
    path = Path(cache_store)
    return path.with_name(f"{path.stem}.responses.db")


def record_for(
    request: ResponsesRequest, earlier: Sequence[dict[str, Any]] | None, response: dict[str, Any]
) -> StoredResponse:
    return StoredResponse(response["id"], [*(earlier or ()), *request.input_items], response)


async def resolve_previous(store: "ResponseStore", tenant: str, response_id: str) -> list[dict[str, Any]]:
    """The conversation `previous_response_id` continues; unknown, expired and other tenants' ids all
    raise the same error."""
    record = await store.get(tenant, response_id)
    if record is None:
        raise previous_not_found(response_id)
    return record.items_after()


def previous_not_found(response_id: str) -> ProtocolError:
    return ProtocolError(
        400,
        f"Previous response with id '{response_id}' not found.",
        "previous_response_id",
        "previous_response_not_found",
    )


def response_not_found(response_id: str) -> ProtocolError:
    return ProtocolError(404, f"Response with id '{response_id}' not found.", None, "not_found")


def deleted_object(response_id: str) -> dict[str, Any]:
    """The body of a successful `DELETE /v1/responses/{id}`."""
    return {"id": response_id, "object": "response", "deleted": True}


class ResponseStore(Protocol):
    async def put(self, tenant: str, record: StoredResponse) -> None: ...

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None: ...

    async def delete(self, tenant: str, response_id: str) -> bool: ...

    async def close(self) -> None: ...


class SqliteResponseStore:
    def __init__(
        self, db: aiosqlite.Connection, max_per_tenant: int, ttl_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        if max_per_tenant < 1 or ttl_s <= 0:
            raise ValueError(f"max_per_tenant must be >= 1 and ttl_s > 0, got {max_per_tenant}, {ttl_s}")
        self._db = db
        self._max_per_tenant = max_per_tenant
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: str | Path,
        max_per_tenant: int = 1000,
        ttl_s: float = 30 * 86400,
        clock: Callable[[], float] = time.time,
    ) -> "SqliteResponseStore":
        """Open (creating as needed) the database at `path` (":memory:" for tests). The default TTL is
        OpenAI's: stored responses are kept 30 days."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(str(path), isolation_level=None)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA busy_timeout=5000")
        for statement in _SCHEMA:
            await db.execute(statement)
        return cls(db, max_per_tenant, ttl_s, clock)

    async def close(self) -> None:
        await self._db.close()

    async def put(self, tenant: str, record: StoredResponse) -> None:
        now = self._clock()
        async with self._transaction():
            await self._db.execute("DELETE FROM stored_responses WHERE expires_at <= ?", (now,))
            await self._db.execute(
                "INSERT OR REPLACE INTO stored_responses VALUES (?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    record.id,
                    now,
                    now + self._ttl_s,
                    orjson.dumps(record.conversation),
                    orjson.dumps(record.response),
                ),
            )
            await self._db.execute(
                "DELETE FROM stored_responses WHERE tenant = ? AND id NOT IN (SELECT id FROM stored_responses "
                "WHERE tenant = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)",
                (tenant, tenant, self._max_per_tenant),
            )

    async def get(self, tenant: str, response_id: str) -> StoredResponse | None:
        async with self._lock:
            rows = await self._db.execute_fetchall(
                "SELECT conversation, response FROM stored_responses WHERE tenant = ? AND id = ? AND expires_at > ?",
                (tenant, response_id, self._clock()),
            )
        rows = list(rows)
        if not rows:
            return None
        return StoredResponse(response_id, orjson.loads(rows[0][0]), orjson.loads(rows[0][1]))

    async def delete(self, tenant: str, response_id: str) -> bool:
        async with self._transaction():
            cursor = await self._db.execute(
                "DELETE FROM stored_responses WHERE tenant = ? AND id = ? AND expires_at > ?",
                (tenant, response_id, self._clock()),
            )
            return cursor.rowcount > 0

    async def count(self, tenant: str) -> int:
        async with self._lock:
            rows = list(
                await self._db.execute_fetchall(
                    "SELECT COUNT(*) FROM stored_responses WHERE tenant = ? AND expires_at > ?", (tenant, self._clock())
                )
            )
        return int(rows[0][0])

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")
