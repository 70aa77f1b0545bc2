"""The Redis store's change stream, as a replica's follower reads it.

Every write script appends one change (put, delete, expire, evict) to `{p}:changes`, capped
at `stream_maxlen` changes, and numbers it from the counter `{p}:changes:n`. The numbers are
what tell a follower back from a disconnect whether trimming dropped changes it never read.
A put carries the whole entry, so followers update their mirrors without reading it back.
"""

from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from gateway.cache import redis_layout as layout
from gateway.cache.entry import CacheEntry


@dataclass(frozen=True)
class StreamPosition:
    """Where a follower stands: the last change it applied, and that change's number."""

    stream_id: str = "0-0"
    n: int = 0


@dataclass(frozen=True)
class Change:
    position: StreamPosition
    op: str  # put | delete | expire | evict
    origin: str  # the replica that made it
    entry: CacheEntry | None  # the stored entry, for a put
    removed: tuple[str, ...]  # ids that left the store (for a put: the entry it replaced)


class ChangeStream:
    """Reads of the stream; Redis errors propagate to the store, which turns them into read-only mode."""

    def __init__(self, redis: Redis, follower: Redis, prefix: str) -> None:
        self._redis = redis
        self._follower = follower  # blocking reads get a connection of their own
        self.key = f"{prefix}:changes"
        self._counter = f"{prefix}:changes:n"

    async def newest(self) -> StreamPosition:
        newest = cast(list[_Entry], await self._redis.xrevrange(self.key, count=1))
        return _position(*newest[0]) if newest else StreamPosition()

    async def read(self, after: StreamPosition, block_ms: int, count: int) -> list[Change]:
        reply = cast(
            list[tuple[bytes, list[_Entry]]],
            await self._follower.xread({self.key: after.stream_id}, count=count, block=block_ms),
        )
        return [_change(stream_id, fields) for _, messages in reply for stream_id, fields in messages]

    async def lost_since(self, position: StreamPosition) -> bool:
        """Whether trimming dropped changes after `position`: the oldest kept must follow it directly."""
        oldest = cast(list[_Entry], await self._redis.xrange(self.key, count=1))
        if oldest:
            return _position(*oldest[0]).n > position.n + 1
        return int(await self._redis.get(self._counter) or 0) > position.n

    async def close(self) -> None:
        await self._follower.aclose()


# redis-py types a stream reply for every protocol and decode_responses setting; these clients speak RESP2
# and read bytes: [stream_id, {field: value}] per entry, [stream, entries] per stream of an XREAD.
_Entry = tuple[bytes, dict[bytes, bytes]]


def _change(stream_id: bytes, fields: dict[bytes, bytes]) -> Change:
    op = fields[b"op"].decode()
    removed = tuple(i for i in fields.get(b"removed", b"").decode().split(",") if i)
    entry = layout.decode(fields) if op == "put" else None
    return Change(_position(stream_id, fields), op, fields[b"origin"].decode(), entry, removed)


def _position(stream_id: bytes, fields: dict[bytes, bytes]) -> StreamPosition:
    return StreamPosition(stream_id.decode(), int(fields[b"n"]))
