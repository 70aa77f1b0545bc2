"""Keeping this replica's HNSW mirror in step with the shared store's change stream.

Start: note the stream position, then rebuild the index from the store, then follow from
the noted position; changes made during the rebuild are applied again, which is harmless
because applying a change is idempotent. A blocking XREAD delivers each change as soon as
any replica commits it.

Disconnect: the store turns read-only and this loop probes Redis every `retry_s`. When it
answers, the follower resumes from the last change it applied, unless the data set was
replaced (Redis restarted without persistence) or the capped stream dropped changes this
replica never read; then it rebuilds the index from the store, as at start.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from gateway.cache.redis_changes import Change, StreamPosition
from gateway.cache.redis_store import RedisStore
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.store import StoreUnavailable

log = logging.getLogger(__name__)


@dataclass
class SyncStats:
    applied: int = 0  # changes from other replicas applied to the mirror
    rebuilds: int = 0
    reconnects: int = 0
    last_lag_s: float | None = None  # commit (stream id time) to applied here, of the last foreign change


class ReplicaSync:
    def __init__(
        self, cache: SemanticCache, store: RedisStore, block_ms: int = 1000, batch: int = 512, retry_s: float = 0.5
    ) -> None:
        self.cache = cache
        self.store = store
        self.block_ms = block_ms
        self.batch = batch
        self.retry_s = retry_s
        self.stats = SyncStats()
        self._position = StreamPosition()
        self._started = False
        self._closing = False
        self._task: asyncio.Task | None = None

    async def start(self, progress: bool = True) -> int:
        """Index the store and follow its changes; returns the entries indexed (0 while Redis is away:
        the follower indexes them once it is back)."""
        indexed = await self._rebuild(progress) if self.store.available else 0
        self._task = asyncio.create_task(self._follow())
        return indexed

    async def close(self) -> None:
        # redis-py can swallow a cancellation that lands inside a blocking XREAD; the flag still
        # ends the loop once that read returns (within block_ms).
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self) -> None:
        while not self._closing:
            try:
                if not self.store.available:
                    await self._reconnect()
                changes = await self.store.read_changes(self._position, self.block_ms, self.batch)
                if self._apply(changes):
                    await self.cache.refresh_counts()  # other replicas' inserts count towards the quotas
            except StoreUnavailable:
                await asyncio.sleep(self.retry_s)
            except Exception:
                log.exception("replica sync failed; retrying")
                await asyncio.sleep(self.retry_s)

    async def _reconnect(self) -> None:
        replaced = await self.store.probe()  # raises StoreUnavailable while Redis is still away
        self.store.mark_available()
        self.stats.reconnects += 1
        if not self._started or replaced or await self.store.changes_lost_since(self._position):
            await self._rebuild(progress=False)

    async def _rebuild(self, progress: bool) -> int:
        position = await self.store.change_position()
        if self._started:
            indexed = await self.cache.rebuild_index(progress=progress)
        else:
            indexed = await self.cache.start(progress=progress)
            self._started = True
        self._position = position
        self.stats.rebuilds += 1
        log.info("cache mirror rebuilt from Redis: %d entries indexed, following changes after %s", indexed, position)
        return indexed

    def _apply(self, changes: list[Change]) -> bool:
        """Mirror the changes; True when another replica made any of them."""
        foreign = False
        for change in changes:
            added = (change.entry,) if change.entry is not None else ()
            self.cache.apply_remote_change(change.removed, added)
            self._position = change.position
            if change.origin != self.store.origin:
                foreign = True
                self.stats.applied += 1
                self.stats.last_lag_s = max(time.time() - int(change.position.stream_id.split("-")[0]) / 1000, 0.0)
        return foreign
