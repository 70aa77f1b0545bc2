"""How the cache lies in Redis: key names, the entry hash, and the Lua scripts that change it.

Every key starts with `{PREFIX}:`; the braces make them one Redis Cluster hash slot, so the
scripts below, which touch several keys, stay valid on a cluster too.

    {p}:e:ID            hash: one entry (fields of CacheEntry, _member, _xkey); native TTL
    {p}:x:SPACE:KEY     string: exact key -> entry id; same native TTL as the entry
    {p}:lru:SPACE       zset: member -> last use (LRU quota eviction)
    {p}:lfu:SPACE       zset: member -> hits * 1e10 + last use (LFU: fewest hits, then oldest)
    {p}:expiry          zset: member -> expires_at (the TTL sweep; also the registry of live entries)
    {p}:order           zset: member -> insertion sequence (rebuild order, admin listings)
    {p}:spaces          hash: SPACE -> [namespace, category]
    {p}:changes         stream: put / delete / expire / evict, capped with MAXLEN ~; each change
                        carries n, its number (from {p}:changes:n), so a gap shows what trimming lost
    {p}:epoch           string: changes when the data set is lost or replaced (a restart without persistence)
    {p}:meta            hash: facts about the store as a whole ("embedding": whose vectors it holds)

A member is "SPACE:ID", so a script can find an entry's sorted sets even after Redis expired
its hash. Each script writes the data and appends its change to the stream in one atomic
step: a replica that follows the stream never sees a change the store does not have.
"""

import hashlib
import math
from typing import Any

import numpy as np
import orjson

from gateway.cache.entry import CacheEntry

# LFU score = hits * this + last use (epoch seconds, < 1e10): the hit count dominates, recency breaks ties.
LFU_HIT_WEIGHT = 1e10

_REMOVE = """
local P = ARGV[1]
local function remove(member)
  local sep = string.find(member, ":", 1, true)
  local space, id = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
  local ekey = P .. ":e:" .. id
  local xkey = redis.call("HGET", ekey, "_xkey")
  if xkey and redis.call("GET", xkey) == id then redis.call("DEL", xkey) end
  redis.call("DEL", ekey)
  redis.call("ZREM", P .. ":lru:" .. space, member)
  redis.call("ZREM", P .. ":lfu:" .. space, member)
  redis.call("ZREM", P .. ":order", member)
  return redis.call("ZREM", P .. ":expiry", member) == 1, id
end
local function publish(op, origin, maxlen, ids)
  if #ids > 0 then
    redis.call("XADD", P .. ":changes", "MAXLEN", "~", maxlen, "*", "n", redis.call("INCR", P .. ":changes:n"),
               "op", op, "origin", origin, "removed", table.concat(ids, ","))
  end
end
"""

# ARGV: prefix, origin, maxlen, id, member, space, space_json, xkey, expire_ms, expires_at, lru, lfu, field, value, ...
PUT = (
    _REMOVE
    + """
local origin, maxlen, id, member, space = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local xkey, expire_ms = ARGV[8], ARGV[9]
local replaced = {}
local old = redis.call("GET", xkey)
if old and old ~= id then
  local old_member = redis.call("HGET", P .. ":e:" .. old, "_member")
  if old_member then
    local _, old_id = remove(old_member)
    table.insert(replaced, old_id)
  end
end
local fields = {}
for i = 13, #ARGV do fields[#fields + 1] = ARGV[i] end
local ekey = P .. ":e:" .. id
redis.call("HSET", ekey, "_member", member, "_xkey", xkey, unpack(fields))
redis.call("PEXPIREAT", ekey, expire_ms)
redis.call("SET", xkey, id, "PXAT", expire_ms)
redis.call("ZADD", P .. ":lru:" .. space, ARGV[11], member)
redis.call("ZADD", P .. ":lfu:" .. space, ARGV[12], member)
redis.call("ZADD", P .. ":expiry", ARGV[10], member)
redis.call("ZADD", P .. ":order", redis.call("INCR", P .. ":seq"), member)
redis.call("HSET", P .. ":spaces", space, ARGV[7])
redis.call("XADD", P .. ":changes", "MAXLEN", "~", maxlen, "*", "n", redis.call("INCR", P .. ":changes:n"),
           "op", "put", "origin", origin, "removed", table.concat(replaced, ","), unpack(fields))
return replaced
"""
)

# ARGV: prefix, origin, maxlen, id, id, ...
DELETE = (
    _REMOVE
    + """
local removed = {}
for i = 4, #ARGV do
  local member = redis.call("HGET", P .. ":e:" .. ARGV[i], "_member")
  if member then
    local gone, id = remove(member)
    if gone then table.insert(removed, id) end
  end
end
publish("delete", ARGV[2], ARGV[3], removed)
return #removed
"""
)

# ARGV: prefix, origin, maxlen, before, limit
EXPIRE = (
    _REMOVE
    + """
local removed = {}
for _, member in ipairs(redis.call("ZRANGEBYSCORE", P .. ":expiry", "-inf", "(" .. ARGV[4], "LIMIT", 0, ARGV[5])) do
  local gone, id = remove(member)
  if gone then table.insert(removed, id) end
end
publish("expire", ARGV[2], ARGV[3], removed)
return removed
"""
)

# ARGV: prefix, origin, maxlen, space, keep, order ("lru" | "lfu"), protected id, ...
EVICT = (
    _REMOVE
    + """
local ranking = P .. ":" .. ARGV[6] .. ":" .. ARGV[4]
local excess = redis.call("ZCARD", ranking) - tonumber(ARGV[5])
local protected = {}
for i = 7, #ARGV do protected[ARGV[i]] = true end
local removed = {}
if excess > 0 then
  -- enough of the lowest ranked that `excess` remain once the protected ones are passed over
  for _, member in ipairs(redis.call("ZRANGE", ranking, 0, excess - 1 + #ARGV - 6)) do
    if #removed == excess then break end
    if not protected[string.sub(member, string.find(member, ":", 1, true) + 1)] then
      local _, id = remove(member)
      table.insert(removed, id)
    end
  end
end
publish("evict", ARGV[2], ARGV[3], removed)
return removed
"""
)

# ARGV: prefix, xkey -> the entry's hash as a flat list, or nil
FIND_EXACT = """
local id = redis.call("GET", ARGV[2])
if not id then return false end
return redis.call("HGETALL", ARGV[1] .. ":e:" .. id)
"""

# ARGV: prefix, weight, (id, hits, last_hit_at) ...
RECORD_HITS = """
local P = ARGV[1]
for i = 3, #ARGV, 3 do
  local ekey = P .. ":e:" .. ARGV[i]
  local member = redis.call("HGET", ekey, "_member")
  if member then
    local hits = redis.call("HINCRBY", ekey, "hit_count", ARGV[i + 1])
    local last = tonumber(ARGV[i + 2])
    local previous = tonumber(redis.call("HGET", ekey, "last_hit_at"))
    if previous and previous > last then last = previous end
    redis.call("HSET", ekey, "last_hit_at", string.format("%.6f", last))
    local space = string.sub(member, 1, string.find(member, ":", 1, true) - 1)
    redis.call("ZADD", P .. ":lru:" .. space, last, member)
    redis.call("ZADD", P .. ":lfu:" .. space, hits * tonumber(ARGV[2]) + last, member)
  end
end
return 0
"""

# ARGV: prefix, id, utility. Never recreates a deleted entry as a partial hash.
SET_UTILITY = """
local ekey = ARGV[1] .. ":e:" .. ARGV[2]
if redis.call("EXISTS", ekey) == 1 then redis.call("HSET", ekey, "utility", ARGV[3]) end
return 0
"""

# ARGV: prefix, id, delta, low, high. Atomic read-add-clamp; a deleted entry stays deleted.
ADD_UTILITY = """
local ekey = ARGV[1] .. ":e:" .. ARGV[2]
if redis.call("EXISTS", ekey) == 0 then return 0 end
local value = (tonumber(redis.call("HGET", ekey, "utility")) or 0) + tonumber(ARGV[3])
value = math.max(tonumber(ARGV[4]), math.min(tonumber(ARGV[5]), value))
redis.call("HSET", ekey, "utility", string.format("%.17g", value))
return 0
"""


def space_of(namespace: str, category: str) -> str:
    return hashlib.sha1(f"{namespace}\x00{category}".encode()).hexdigest()[:16]


def member_of(entry_id: str, space: str) -> str:
    return f"{space}:{entry_id}"


def id_of_member(member: bytes | str) -> str:
    text = member.decode() if isinstance(member, bytes) else member
    return text.split(":", 1)[1]


def encode(entry: CacheEntry) -> list[Any]:
    """The entry as flat (field, value) pairs for HSET and XADD."""
    fields = {
        "id": entry.id,
        "tenant": entry.tenant,
        "namespace": entry.namespace,
        "category": entry.category,
        "model": entry.model,
        "fingerprint": entry.fingerprint,
        "exact_key": entry.exact_key,
        "query_text": entry.query_text,
        "embedding": _blob(entry.embedding),
        "request": orjson.dumps(entry.request),
        "response": orjson.dumps(entry.response),
        "created_at": repr(entry.created_at),
        "expires_at": repr(entry.expires_at),
        "hit_count": entry.hit_count,
        "last_hit_at": "" if entry.last_hit_at is None else repr(entry.last_hit_at),
        "utility": repr(entry.utility),
        "producer_model": entry.producer_model,
        "example_ids": orjson.dumps(list(entry.example_ids)),
        "context_embedding": _blob(entry.context_embedding),
        "offer_embedding": _blob(entry.offer_embedding),
    }
    return [item for pair in fields.items() for item in pair]


def decode(fields: dict[bytes, bytes], with_embedding: bool = True) -> CacheEntry:
    f = {k.decode(): v for k, v in fields.items()}
    text = lambda name: f[name].decode()  # noqa: E731
    # Entries written before the context vectors were stored have no such fields: read as None.
    vector = lambda name: _vector(f.get(name, b"")) if with_embedding else None  # noqa: E731
    return CacheEntry(
        id=text("id"),
        tenant=text("tenant"),
        namespace=text("namespace"),
        category=text("category"),
        model=text("model"),
        fingerprint=text("fingerprint"),
        exact_key=text("exact_key"),
        query_text=text("query_text"),
        embedding=vector("embedding"),
        request=orjson.loads(f["request"]),
        response=orjson.loads(f["response"]),
        created_at=float(f["created_at"]),
        expires_at=float(f["expires_at"]),
        hit_count=int(f["hit_count"]),
        last_hit_at=float(f["last_hit_at"]) if f["last_hit_at"] else None,
        utility=float(f["utility"]),
        producer_model=text("producer_model"),
        example_ids=tuple(orjson.loads(f["example_ids"])),
        context_embedding=vector("context_embedding"),
        offer_embedding=vector("offer_embedding"),
    )


def _blob(vector: np.ndarray | None) -> bytes:
    return b"" if vector is None else np.asarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes) -> np.ndarray | None:
    return np.frombuffer(blob, dtype=np.float32).copy() if blob else None


def pairs_to_dict(flat: list[bytes]) -> dict[bytes, bytes]:
    return dict(zip(flat[0::2], flat[1::2], strict=True))


def expire_at_ms(expires_at: float) -> int:
    return math.ceil(expires_at * 1000)


def lfu_score(hits: int, last_used: float) -> float:
    return hits * LFU_HIT_WEIGHT + last_used
