"""The cache's running parts: store, embedder, index, policies, and the loops that keep them current.

Two loops run beside the requests: one watches the policy file and swaps in a new policy
only when it validates (the old one stays in force otherwise); one samples every
upstream's load once a second (gateway/upstream/load.py), which moves the adaptive thresholds and TTLs. With the Redis
store a third follows the other replicas' changes (gateway/cache/replica_sync.py).
"""

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from gateway.cache.embedder import Embedder, EmbeddingModel
from gateway.cache.redis_store import RedisStore
from gateway.cache.replica_sync import ReplicaSync
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.settings import CacheConfig
from gateway.cache.sqlite_store import SqliteStore
from gateway.cache.step import CacheLayer
from gateway.cache.verifier_stack import load_verifier
from gateway.cpu_share import EMBED_THREADS_ALONE
from gateway.upstream.load import QueueProbe, load_sample
from gateway.upstream.pool import UpstreamPool
from policies.adaptive import LoadAdaptivePolicy
from policies.classifier import CategoryClassifier
from policies.loader import load_policy_file
from policies.reload import PolicyHolder, ReloadResult
from policies.schema import PolicySet

log = logging.getLogger(__name__)


class CacheService:
    def __init__(
        self,
        config: CacheConfig,
        pool: UpstreamPool,
        model: EmbeddingModel | None = None,
        embed_threads: int = EMBED_THREADS_ALONE,
    ) -> None:
        self.config = config
        self._embed_threads = embed_threads  # gateway/cpu_share.py decides
        self.pool = pool
        self._model = model
        self.layer: CacheLayer | None = None
        self.sync: ReplicaSync | None = None  # with the Redis store: follows the other replicas' changes
        self._tasks: list[asyncio.Task] = []
        self._policy_mtime = 0.0
        self._queue_probe = QueueProbe(pool.client)

    async def start(self) -> CacheLayer:
        cfg = self.config
        policies = load_policy_file(cfg.policies_path)  # an invalid policy at start is a config error
        if self._model is None:
            log.info("loading the embedding model (all-MiniLM-L6-v2)")
            self._model = await asyncio.to_thread(EmbeddingModel, threads=self._embed_threads)
        embedder = Embedder(self._model, window_s=cfg.embed_window_ms / 1000, max_batch=cfg.embed_max_batch)
        cache, indexed = await self._open_cache(embedder)
        log.info("cache ready: %d entries indexed from the %s store", indexed, cfg.store_kind)
        holder = await asyncio.to_thread(PolicyHolder, policies, self._classifier)
        upstream_of_model = {m: u.name for u in self.pool.upstreams for m in u.models}
        default_upstream = self.pool.upstreams[0].name if self.pool.upstreams else "none"
        adaptive = LoadAdaptivePolicy(policies, upstream_of_model, default_upstream)
        self.layer = CacheLayer(cache, holder, adaptive, embed_timeout_s=cfg.embed_timeout_s)
        cache.stale_grace_s = stale_grace(policies)
        self._policy_mtime = _mtime(cfg.policies_path)
        self._tasks = [asyncio.create_task(self._watch_policies()), asyncio.create_task(self._sample_load())]
        return self.layer

    async def _open_cache(self, embedder: Embedder) -> tuple[SemanticCache, int]:
        """The store `cache.store` names (a path: SQLite; redis://: shared Redis), and the index built from it."""
        cfg = self.config
        if cfg.store_kind == "redis":
            r = cfg.redis
            shared = await RedisStore.open(
                cfg.store_path,
                prefix=r.prefix,
                stream_maxlen=r.stream_maxlen,
                local_entries=r.local_entries,
                timeout_s=r.timeout_s,
            )
            cache = SemanticCache(shared, embedder, load_verifier(), top_k=cfg.top_k)
            self.sync = ReplicaSync(cache, shared)
            return cache, await self.sync.start(progress=True)
        Path(cfg.store_path).parent.mkdir(parents=True, exist_ok=True)
        store = await SqliteStore.open(cfg.store_path, max_bytes=cfg.store_max_bytes)
        cache = SemanticCache(store, embedder, load_verifier(), top_k=cfg.top_k)
        return cache, await cache.start(progress=True)

    @property
    def store_health(self) -> str:
        """ "ok", or "degraded (...)" while the store cannot take writes: a shared store that is away
        ("read-only, redis unreachable"), an SQLite file that is full or read-only."""
        if self.sync is not None:
            return self.sync.store.health
        return getattr(self.layer.cache.store, "health", "ok") if self.layer is not None else "ok"

    async def close(self) -> None:
        if self.sync is not None:
            await self.sync.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.layer is not None:
            await self.layer.cache.close()
            await self.layer.cache.embedder.close()

    async def reload_policies(self, text: str | None = None, source: str = "<admin>") -> ReloadResult:
        """Validate and swap in a policy (the file's, or `text`); a rejected one changes nothing."""
        layer = self._started()
        holder = layer.policies
        if text is None:
            result = await asyncio.to_thread(holder.offer_file, self.config.policies_path)
        else:
            result = await asyncio.to_thread(holder.offer_text, text, source)
        if result.accepted:
            layer.adaptive.replace_policies(holder.current.policies)
            layer.cache.stale_grace_s = stale_grace(holder.current.policies)
            log.info("policies reloaded: version %d", result.version)
        else:
            log.error(
                "policy rejected, version %d stays in force:\n%s",
                result.version,
                "\n".join(str(e) for e in result.errors),
            )
        return result

    def _started(self) -> CacheLayer:
        if self.layer is None:
            raise RuntimeError("the cache service has not started")
        return self.layer

    def _classifier(self, policies: PolicySet) -> CategoryClassifier:
        model = self._model
        if model is None:  # start() loads it before it reads a policy
            raise RuntimeError("the cache service has not started")
        return CategoryClassifier.build(policies, lambda texts: model.encode(list(texts)))

    async def _watch_policies(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            mtime = _mtime(self.config.policies_path)
            if mtime and mtime != self._policy_mtime:
                self._policy_mtime = mtime
                await self.reload_policies()

    async def _sample_load(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            upstreams = self.pool.upstreams
            queued = await asyncio.gather(*(self._queue_probe.queued(u) for u in upstreams))
            now = time.monotonic()
            for upstream, waiting in zip(upstreams, queued, strict=True):
                self._started().adaptive.observe(upstream.name, load_sample(upstream, now, waiting), now)


def stale_grace(policies: PolicySet) -> float:
    """Expired entries are kept as long as the most lenient category may serve them stale-if-error."""
    return max(c.stale_if_error_s for c in (*policies.categories, policies.defaults))


def _mtime(path: str) -> float:
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0
