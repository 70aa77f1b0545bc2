"""What gateway.yaml says about the semantic cache (`cache:`): its store, policy file and embedder batching.

Read by gateway/config/ against these fields and their constraints; gateway/cache/service.py builds the
cache from them. Relative paths are relative to the directory semgate runs in.
"""

from dataclasses import dataclass

from policies.constraints import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, Range, checked

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class RedisStoreConfig:
    """The Redis store's settings (gateway/cache/redis_store.py); used when `store` is a redis:// URL."""

    prefix: str = checked("semgate", None, "key prefix: several caches can share one Redis", expects="a key prefix")
    # Changes kept in the stream: how far a disconnected replica may fall behind before it rebuilds.
    stream_maxlen: int = checked(10_000, AT_LEAST_ONE)
    # Recent entries each replica keeps in memory to answer hits while Redis is unreachable.
    local_entries: int = checked(10_000, NON_NEGATIVE)
    timeout_s: float = checked(1.0, POSITIVE)


@dataclass(frozen=True)
class CacheConfig:
    enabled: bool = True
    # `store:` in gateway.yaml: a file path (SQLite, embedded) or a redis:// URL (shared by several replicas).
    store: str = checked("var/semgate.db", expects="a file path or redis:// URL")
    # SQLite only: the database file stops growing here; past it answers are served, not stored.
    store_max_bytes: int | None = checked(None, Range(65536, None), expects="a number of bytes")
    policies: str = checked("config/policies.yaml", expects="a file path")
    # Embedding requests arriving within this window share one model call.
    embed_window_ms: float = checked(2.0, POSITIVE)
    embed_max_batch: int = checked(32, AT_LEAST_ONE)
    # Past this, the request bypasses the cache instead of waiting on the embedder.
    embed_timeout_s: float = checked(2.0, POSITIVE)
    top_k: int = checked(8, AT_LEAST_ONE)
    redis: RedisStoreConfig = RedisStoreConfig()

    @property
    def store_path(self) -> str:
        return self.store

    @property
    def policies_path(self) -> str:
        return self.policies

    @property
    def store_kind(self) -> str:
        return "redis" if self.store.startswith(REDIS_SCHEMES) else "sqlite"
