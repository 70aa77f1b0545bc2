"""The shared document store: Redis, for several gateway replicas (redis-py asyncio).

Same protocol as SqliteStore. Entries are hashes with a native TTL; quotas use per-namespace
sorted sets; every write also appends to a change stream that each replica follows to keep
its own HNSW mirror (gateway/cache/replica_sync.py). Layout: gateway/cache/redis_layout.py.

When Redis is unreachable the store turns read-only instead of failing the request: reads
come from LocalDocuments (recent entries held in memory), writes raise StoreUnavailable
(the gateway then serves the miss without storing it), hit counters wait in memory, and
`health` says so. The replica sync (gateway/cache/replica_sync.py) probes Redis and turns
the store writable again as soon as it answers, then catches the mirror up.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import TypedDict, TypeVar, Unpack, cast

import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.cache import redis_layout as layout
from gateway.cache.entry import CacheEntry
from gateway.cache.local_documents import LocalDocuments
from gateway.cache.redis_changes import Change, ChangeStream, StreamPosition
from gateway.cache.store import DocumentStore, EntryPage, EntryQuery, HitUpdate, StoreUnavailable

log = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
OK, DEGRADED = "ok", "degraded (read-only, redis unreachable)"
_EVICTION_ORDERS = ("lru", "lfu")
_SCAN_BATCH = 500


_T = TypeVar("_T")
# redis-py types a reply for either decode_responses setting (bytes | str); this store's clients read bytes,
# so its reads are cast to what Redis returns them as.


class RedisOptions(TypedDict, total=False):
    """RedisStore's settings besides its URL (their defaults are __init__'s)."""

    prefix: str
    stream_maxlen: int
    local_entries: int
    timeout_s: float
    follow_block_ms: int


class RedisStore(DocumentStore):
    def __init__(
        self,
        url: str,
        prefix: str = "semgate",
        stream_maxlen: int = 10_000,
        local_entries: int = 10_000,
        timeout_s: float = 1.0,
        follow_block_ms: int = 1000,
    ) -> None:
        self.url = url
        self.prefix = "{" + prefix + "}"
        self.stream_maxlen = stream_maxlen
        self.origin = uuid.uuid4().hex  # this replica, in the changes it writes
        self.local = LocalDocuments(local_entries)
        self.available = False
        # One fast retry replaces a pooled connection that a Redis restart left dead.
        self._redis = Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 1)
        )
        # The follower blocks in XREAD: its own connection, with a timeout longer than the block.
        follower = Redis.from_url(
            url,
            socket_timeout=timeout_s + follow_block_ms / 1000,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        self.changes = ChangeStream(self._redis, follower, self.prefix)
        self._epoch: bytes | str | None = None  # as Redis returns it
        self._unsent_hits: dict[str, HitUpdate] = {}
        self._put = self._redis.register_script(layout.PUT)
        self._delete = self._redis.register_script(layout.DELETE)
        self._expire = self._redis.register_script(layout.EXPIRE)
        self._evict = self._redis.register_script(layout.EVICT)
        self._find_exact = self._redis.register_script(layout.FIND_EXACT)
        self._record_hits = self._redis.register_script(layout.RECORD_HITS)
        self._set_utility = self._redis.register_script(layout.SET_UTILITY)
        self._add_utility = self._redis.register_script(layout.ADD_UTILITY)

    @classmethod
    async def open(cls, url: str, **options: Unpack[RedisOptions]) -> "RedisStore":
        """Connect; an unreachable Redis leaves the store read-only (and empty) until the sync finds it."""
        store = cls(url, **options)
        try:
            await store.probe()
            store.available = True
        except StoreUnavailable as exc:
            log.warning("%s; starting read-only, the cache fills once Redis is reachable", exc)
        return store

    @property
    def health(self) -> str:
        return OK if self.available else DEGRADED

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def close(self) -> None:
        await self._redis.aclose()
        await self.changes.close()

    # -- the DocumentStore protocol ------------------------------------------------------------

    async def put(self, entry: CacheEntry) -> list[str]:
        self._require_writable()
        space = layout.space_of(entry.namespace, entry.category)
        expire_ms = layout.expire_at_ms(entry.expires_at)
        last_used = entry.last_hit_at or entry.created_at
        args = [
            self.prefix,
            self.origin,
            self.stream_maxlen,
            entry.id,
            layout.member_of(entry.id, space),
            space,
            orjson.dumps([entry.namespace, entry.category]),
            self.key("x", space, entry.exact_key),
            expire_ms,
            entry.expires_at,
            last_used,
            layout.lfu_score(entry.hit_count, last_used),
            *layout.encode(entry),
        ]
        try:
            replaced = [r.decode() for r in await self._put(args=args)]
        except UNREACHABLE as exc:
            raise self._lost(exc) from exc
        self.local.forget(replaced)
        self.local.remember([entry])
        return replaced

    async def get_many(self, entry_ids: Sequence[str]) -> dict[str, CacheEntry]:
        if not entry_ids:
            return {}
        if not self.available:
            return self.local.get_many(entry_ids)
        try:
            found = await self._hashes(entry_ids)
        except UNREACHABLE as exc:
            self._lost(exc)
            return self.local.get_many(entry_ids)
        entries = {e.id: e for e in map(layout.decode, found.values())}
        self.local.remember(entries.values())
        return entries

    async def find_exact(self, namespace: str, category: str, exact_key: str) -> CacheEntry | None:
        if self.available:
            xkey = self.key("x", layout.space_of(namespace, category), exact_key)
            try:
                flat = await self._find_exact(args=[self.prefix, xkey])
            except UNREACHABLE as exc:
                self._lost(exc)
            else:
                entry = layout.decode(layout.pairs_to_dict(flat)) if flat else None
                if entry is not None:
                    self.local.remember([entry])
                return entry
        return self.local.find_exact(namespace, category, exact_key)

    async def find_exact_in(self, spaces: Sequence[tuple[str, str]], exact_key: str) -> list[CacheEntry]:
        found = await asyncio.gather(
            *(self.find_exact(namespace, category, exact_key) for namespace, category in spaces)
        )
        return [entry for entry in found if entry is not None]

    async def delete(self, entry_ids: Sequence[str]) -> int:
        self._require_writable()
        deleted = 0
        try:
            for start in range(0, len(entry_ids), _SCAN_BATCH):
                chunk = list(entry_ids[start : start + _SCAN_BATCH])
                deleted += await self._delete(args=[self.prefix, self.origin, self.stream_maxlen, *chunk])
        except UNREACHABLE as exc:
            raise self._lost(exc) from exc
        finally:
            self.local.forget(entry_ids)
        return deleted

    async def record_hits(self, updates: Sequence[HitUpdate]) -> None:
        """Hit counters are best effort: while Redis is away they wait here and go with the next flush."""
        for u in updates:
            previous = self._unsent_hits.get(u.entry_id)
            if previous is not None:
                u = HitUpdate(u.entry_id, u.hits + previous.hits, max(u.last_hit_at, previous.last_hit_at))
            self._unsent_hits[u.entry_id] = u
        if not self._unsent_hits or not self.available:
            return
        pending, self._unsent_hits = self._unsent_hits, {}
        args: list[str | int | float] = [self.prefix, layout.LFU_HIT_WEIGHT]
        for u in pending.values():
            args += [u.entry_id, u.hits, u.last_hit_at]
        try:
            await self._record_hits(args=args)
        except UNREACHABLE as exc:
            self._lost(exc)
            self._unsent_hits = pending | self._unsent_hits

    async def set_utility(self, entry_id: str, utility: float) -> None:
        self._require_writable()
        try:
            await self._set_utility(args=[self.prefix, entry_id, repr(utility)])
        except UNREACHABLE as exc:
            raise self._lost(exc) from exc

    async def add_utility(self, entry_id: str, delta: float, low: float, high: float) -> None:
        self._require_writable()
        try:
            await self._add_utility(args=[self.prefix, entry_id, repr(delta), repr(low), repr(high)])
        except UNREACHABLE as exc:
            raise self._lost(exc) from exc

    async def iter_all(self, batch_size: int = 2000) -> AsyncIterator[CacheEntry]:
        after = "-inf"
        while True:
            page = cast(
                list[tuple[bytes, float]],
                await self._guarded(
                    self._redis.zrangebyscore(
                        self.key("order"), after, "+inf", start=0, num=batch_size, withscores=True
                    )
                ),
            )
            if not page:
                return
            found = await self._guarded(self._hashes([layout.id_of_member(m) for m, _ in page]))
            for fields in found.values():
                yield layout.decode(fields)
            after = f"({page[-1][1]:.0f}"

    async def count(self, namespace: str | None = None, category: str | None = None) -> int:
        counts = await self.count_by_namespace()
        return sum(n for (ns, cat), n in counts.items() if namespace in (None, ns) and category in (None, cat))

    async def count_by_namespace(self) -> dict[tuple[str, str], int]:
        spaces = await self._spaces()
        async with self._redis.pipeline(transaction=False) as pipe:
            for space in spaces:
                pipe.zcard(self.key("lru", space))
            sizes = await self._guarded(pipe.execute())
        return {spaces[space]: n for space, n in zip(spaces, sizes, strict=True) if n}

    async def evict(
        self, namespace: str, category: str, keep: int, policy: str, protect: Sequence[str] = ()
    ) -> list[str]:
        if policy not in _EVICTION_ORDERS:
            raise ValueError(f"eviction must be one of {list(_EVICTION_ORDERS)}, got {policy!r}")
        self._require_writable()
        space = layout.space_of(namespace, category)
        try:
            victims = await self._evict(
                args=[self.prefix, self.origin, self.stream_maxlen, space, keep, policy, *protect]
            )
        except UNREACHABLE as exc:
            raise self._lost(exc) from exc
        victims = [v.decode() for v in victims]
        self.local.forget(victims)
        return victims

    async def expire(self, before: float) -> list[str]:
        """Redis already dropped the expired hashes; this sweep cleans the indexes and tells the replicas."""
        expired: list[str] = []
        while self.available:
            try:
                batch = await self._expire(
                    args=[self.prefix, self.origin, self.stream_maxlen, repr(before), _SCAN_BATCH]
                )
            except UNREACHABLE as exc:
                self._lost(exc)
                break
            expired += [v.decode() for v in batch]
            if len(batch) < _SCAN_BATCH:
                break
        self.local.forget(expired)
        return expired

    async def list_entries(self, query: EntryQuery) -> EntryPage:
        """Newest first. A scan over the store (admin use), filtered by space before any entry is read."""
        spaces = await self._spaces()
        wanted = {
            s for s, (ns, cat) in spaces.items() if query.namespace in (None, ns) and query.category in (None, cat)
        }
        members = cast(list[bytes], await self._guarded(self._redis.zrevrange(self.key("order"), 0, -1)))
        ids = [layout.id_of_member(m) for m in members if m.decode().split(":", 1)[0] in wanted]
        needs_entry = query.tenant or query.model or query.text_contains or not query.include_expired
        if not needs_entry:
            page_ids = ids[query.offset : query.offset + query.limit]
            found = await self._guarded(self._hashes(page_ids))
            entries = [layout.decode(found[i], with_embedding=False) for i in page_ids if i in found]
            end = query.offset + len(page_ids)
            return EntryPage(entries, len(ids), end if end < len(ids) else None)
        matching: list[CacheEntry] = []
        now = time.time()
        for start in range(0, len(ids), _SCAN_BATCH):
            found = await self._guarded(self._hashes(ids[start : start + _SCAN_BATCH]))
            for fields in found.values():
                entry = layout.decode(fields, with_embedding=False)
                if _matches(entry, query, now):
                    matching.append(entry)
        page = matching[query.offset : query.offset + query.limit]
        end = query.offset + len(page)
        return EntryPage(page, len(matching), end if end < len(matching) else None)

    async def get_meta(self, key: str) -> str | None:
        value = cast(bytes | None, await self._guarded(self._redis.hget(self.key("meta"), key)))
        return value.decode() if value is not None else None

    async def set_meta(self, key: str, value: str) -> None:
        self._require_writable()
        await self._guarded(self._redis.hset(self.key("meta"), key, value))

    # -- the change stream and availability (used by ReplicaSync) ------------------------------

    async def change_position(self) -> StreamPosition:
        """The newest change: follow from here after reading the store."""
        return await self._guarded(self.changes.newest())

    async def read_changes(self, after: StreamPosition, block_ms: int, count: int) -> list[Change]:
        """Changes after `after`, waiting up to `block_ms` for the first one."""
        changes = await self._guarded(self.changes.read(after, block_ms, count))
        for change in changes:
            self.local.forget(change.removed)
            if change.entry is not None:
                self.local.remember([change.entry])
        return changes

    async def changes_lost_since(self, position: StreamPosition) -> bool:
        """Whether the capped stream dropped changes after `position` that this replica never read."""
        return await self._guarded(self.changes.lost_since(position))

    async def probe(self) -> bool:
        """Reach Redis; True when its data set is not the one this replica last saw (lost or replaced)."""
        try:
            await self._redis.set(self.key("epoch"), uuid.uuid4().hex, nx=True)
            epoch = await self._redis.get(self.key("epoch"))
        except UNREACHABLE as exc:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable ({type(exc).__name__})") from exc
        replaced = self._epoch is not None and epoch != self._epoch
        self._epoch = epoch
        if replaced:
            self.local.clear()
        return replaced

    def mark_available(self) -> None:
        if not self.available:
            log.warning("Redis at %s is reachable again; the cache is writable", self.url)
        self.available = True

    def _lost(self, exc: BaseException) -> StoreUnavailable:
        if self.available:
            log.error(
                "Redis at %s is unreachable (%s); the cache is read-only until it returns", self.url, type(exc).__name__
            )
        self.available = False
        return StoreUnavailable(f"Redis at {self.url} is unreachable; the cache is read-only")

    def _require_writable(self) -> None:
        if not self.available:
            raise StoreUnavailable(f"Redis at {self.url} is unreachable; the cache is read-only")

    async def _guarded(self, awaitable: Awaitable[_T]) -> _T:
        try:
            return await awaitable
        except UNREACHABLE as exc:
            raise self._lost(exc) from exc

    async def _hashes(self, entry_ids: Sequence[str]) -> dict[str, dict[bytes, bytes]]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry_id in entry_ids:
                pipe.hgetall(self.key("e", entry_id))
            rows = await pipe.execute()
        return {i: row for i, row in zip(entry_ids, rows, strict=True) if row}

    async def _spaces(self) -> dict[str, tuple[str, str]]:
        raw = cast(dict[bytes, bytes], await self._guarded(self._redis.hgetall(self.key("spaces"))))
        return {space.decode(): tuple(orjson.loads(names)) for space, names in raw.items()}


def _matches(entry: CacheEntry, query: EntryQuery, now: float) -> bool:
    return (
        query.tenant in (None, entry.tenant)
        and query.model in (None, entry.model)
        and (not query.text_contains or query.text_contains.lower() in entry.query_text.lower())
        and (query.include_expired or entry.expires_at > now)
    )
