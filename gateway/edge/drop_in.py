"""The routes that make semgate a drop-in for today's OpenAI SDKs beyond chat: embeddings and model lookup.

gateway/app.py adds `drop_in_routes(...)` to its routes and builds `open_embeddings(...)` in its lifespan
(the embedding route runs on the model the cache started, or loads one when the cache is off).
"""

import asyncio
from collections.abc import Sequence

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.cache.embedder import Embedder, EmbeddingModel
from gateway.cache.off import CacheOff
from gateway.cache.step import CacheLayer
from gateway.cache.tenant_lru import TenantLRU
from gateway.config import GatewayConfig
from gateway.edge.auth import TenantResolver
from gateway.edge.embeddings_route import EmbeddingsRoute, LocalEmbeddings
from gateway.edge.served_models import ServedModels
from gateway.observe.stats import TraceRecorder
from gateway.protocols.embedding_service import EmbeddingService
from gateway.protocols.embeddings_request import MINILM, EmbeddingModelSpec
from gateway.upstream.pool import UpstreamPool


def drop_in_routes(served: ServedModels) -> list[Route]:
    async def embeddings(request: Request) -> Response:
        route: EmbeddingsRoute = request.state.embeddings
        return await route.handle(request)

    return [
        Route("/v1/models", served.list, methods=["GET"]),
        # `path`: model ids such as "org/model" hold slashes.
        Route("/v1/models/{model:path}", served.retrieve, methods=["GET"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
    ]


class EmbedderSource:
    """The embedder the local embedding model runs on. With the cache on it is the cache's own (one model, one
    worker thread in the process). With it off the model is loaded at the first embeddings request, not at start:
    most gateways without a cache never get one, and loading takes seconds."""

    def __init__(self, shared: Embedder | None, model: EmbeddingModel | None, threads: int | None) -> None:
        self._embedder = shared
        self._owned = shared is None
        self._model = model  # already loaded (tests), else loaded on first use
        self._threads = threads
        self._lock = asyncio.Lock()

    async def get(self) -> Embedder:
        async with self._lock:
            if self._embedder is None:
                if self._model is None:
                    self._model = await asyncio.to_thread(EmbeddingModel, threads=self._threads)
                self._embedder = Embedder(self._model)
        return self._embedder

    async def close(self) -> None:
        if self._owned and self._embedder is not None:
            await self._embedder.close()


def open_embeddings(
    config: GatewayConfig,
    layer: CacheLayer | CacheOff,
    model: EmbeddingModel | None,
    resolver: TenantResolver,
    pool: UpstreamPool,
    recorders: Sequence[TraceRecorder],
) -> tuple[EmbeddingsRoute, EmbedderSource]:
    """The route, and the source of its embedder (closed at shutdown)."""
    settings = config.embeddings
    shared = layer.cache.embedder if isinstance(layer, CacheLayer) else None
    source = EmbedderSource(shared, model, config.cpu_share().embed_threads)
    if not settings.model:
        return EmbeddingsRoute(resolver, pool, config.limits, None, recorders), source
    spec = EmbeddingModelSpec(settings.model, MINILM.dim)

    async def count_tokens(texts: list[str]) -> list[int]:
        embedder = await source.get()
        return await asyncio.to_thread(embedder.model.token_counts, texts)

    async def encode(texts: list[str]) -> np.ndarray:
        return await (await source.get()).encode_for_client(texts)

    cache: TenantLRU[tuple[str, bytes], np.ndarray] = TenantLRU(settings.cache_entries, settings.cache_per_tenant)
    service = EmbeddingService(encode, count_tokens, cache, max_tokens=settings.max_tokens)
    local = LocalEmbeddings(spec, service, settings.max_inputs)
    return EmbeddingsRoute(resolver, pool, config.limits, local, recorders), source
