"""What the admin routes work on: the gateway's running parts, handed over by the app wiring."""

from dataclasses import dataclass

from gateway.cache.embedder import EmbedderStats
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.service import CacheService
from gateway.cache.step import CacheLayer
from gateway.config import GatewayConfig
from gateway.edge.errors import OpenAIError
from gateway.observe.stats import RequestStats
from gateway.upstream.pool import UpstreamPool


@dataclass
class AdminContext:
    config: GatewayConfig
    pool: UpstreamPool
    cache: CacheService | None  # None when the config turns the cache off
    stats: RequestStats

    @property
    def layer(self) -> CacheLayer | None:
        """The running cache; None when it is off or has not started yet."""
        return self.cache.layer if self.cache is not None else None

    def require_layer(self) -> CacheLayer:
        return self.require_started()[1]

    def require_started(self) -> tuple[CacheService, CacheLayer]:
        """The cache service and its running layer; a 409 while there is none."""
        if self.cache is None or self.cache.layer is None:
            why = "is turned off in the config (cache.enabled)" if self.cache is None else "is still starting"
            raise OpenAIError(409, f"The semantic cache {why}.", code="cache_unavailable")
        return self.cache, self.cache.layer

    def require_cache(self) -> SemanticCache:
        return self.require_layer().cache

    def embedder_stats(self) -> EmbedderStats | None:
        layer = self.layer
        return layer.cache.embedder.stats if layer is not None else None
