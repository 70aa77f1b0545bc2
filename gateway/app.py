"""Wiring: every part of the gateway is built here, from the config, and nowhere else."""

import contextlib
import time
from collections.abc import AsyncIterator

import httpx
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin.auth import AdminAuth
from gateway.admin.context import AdminContext
from gateway.admin.dashboard import dashboard_routes
from gateway.admin.routes import admin_routes
from gateway.cache.embedder import EmbeddingModel
from gateway.cache.off import CacheOff
from gateway.cache.service import CacheService
from gateway.cache.step import CacheLayer
from gateway.config import GatewayConfig, check_exposure
from gateway.edge.auth import TenantResolver
from gateway.edge.catch_all import CatchAll
from gateway.edge.drop_in import drop_in_routes, open_embeddings
from gateway.edge.errors import OpenAIError
from gateway.edge.openai_schema import openapi_endpoint
from gateway.edge.proxy import Proxy
from gateway.edge.served_models import ServedModels
from gateway.edge.wire import CHAT, COMPLETION
from gateway.incontext.feedback_api import feedback_endpoint
from gateway.incontext.off import RoutingOff
from gateway.incontext.service import InContextService
from gateway.observe.log_safety import redact
from gateway.observe.loop_lag import LoopLagProbe
from gateway.observe.metrics import Metrics, metrics_endpoint
from gateway.observe.stats import RequestStats
from gateway.protocols.messages_route import anthropic_error, speaks_anthropic
from gateway.protocols.response_store import SqliteResponseStore, path_beside
from gateway.protocols.routes import protocol_routes
from gateway.upstream.pool import UpstreamPool
from gateway.upstream.transport import UpstreamTransport


def build_app(config: GatewayConfig, embedding_model: EmbeddingModel | None = None) -> Starlette:
    """`embedding_model`: an already loaded model to share (tests); loaded at start otherwise."""
    check_exposure(config)
    # One pooled httpx client. Its transport is aiohttp's connection pool: httpcore's pool
    # scans every connection per request (a syscall each), which made the proxy's CPU per
    # request grow with concurrency (loadtest/benches/proxy.py shows the figures).
    limits = httpx.Limits(max_connections=2048, max_keepalive_connections=512, keepalive_expiry=30)
    client = httpx.AsyncClient(
        transport=UpstreamTransport(limits=limits), limits=limits, timeout=httpx.Timeout(120, connect=2)
    )
    pool = UpstreamPool(config.upstreams, client)
    resolver = TenantResolver(config)
    cache = (
        CacheService(config.cache, pool, embedding_model, embed_threads=config.cpu_share().embed_threads)
        if config.cache.enabled
        else None
    )
    request_stats = RequestStats()
    admin = AdminContext(config, pool, cache, request_stats)
    metrics = Metrics(admin.embedder_stats)
    # IC-Cache (examples, routing, feedback) needs the cache and the models it may route to.
    routable = sorted(m.name for m in config.models) if cache is not None else []
    admin_auth = AdminAuth(config)
    started = time.time()
    loop_lag = LoopLagProbe(metrics.observe_loop_lag)

    local_embedding = [config.embeddings.model] if config.embeddings.model else []
    served = ServedModels(resolver, lambda: [*pool.models(), *routable], int(started), tuple(local_embedding))

    async def chat_completions(request: Request) -> Response:
        return await request.state.proxy.handle(request, CHAT)

    async def completions(request: Request) -> Response:
        return await request.state.proxy.handle(request, COMPLETION)

    async def healthz(request: Request) -> Response:
        upstreams = {
            u.name: {
                "models": sorted(u.models),
                "in_flight": u.stats.in_flight,
                "circuit": u.breaker.state,
                "backends": [
                    {"url": redact(b.url), "healthy": b.healthy, "in_flight": b.in_flight} for b in u.backends.backends
                ],
            }
            for u in pool.upstreams
        }
        # A replica whose shared store is away still answers (hits from its mirror, misses
        # upstream): it stays 200 and says "degraded", so a load balancer keeps it in rotation.
        store = cache.store_health if cache is not None else "off"
        return _json(
            {
                "status": "ok" if store in ("ok", "off") else "degraded",
                "store": store,
                "uptime_s": round(time.time() - started, 1),
                "upstreams": upstreams,
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        """Starts the parts that need the event loop and hands them to the routes as the lifespan state
        (`request.state.proxy`, `request.state.routing`, `request.state.responses`: the stored Responses API
        responses): nothing built earlier is patched afterwards."""
        await pool.discover_models()
        pool.start_health_checks()
        layer: CacheLayer | CacheOff = CacheOff()
        routing: InContextService | RoutingOff = RoutingOff()
        if cache is not None:  # IC-Cache routes by the cache's categories and learns from its entries
            layer = started = await cache.start()
            routing = InContextService(config, pool, started) if routable else RoutingOff()
        proxy = Proxy(resolver, pool, config.limits, layer, routing, recorders=(request_stats, metrics, routing))
        embeddings, embedder_source = open_embeddings(
            config, layer, embedding_model, resolver, pool, (request_stats, metrics)
        )
        responses = await SqliteResponseStore.open(path_beside(config.cache.store_path))
        loop_lag.start()  # after loading: a stall counts only once requests could be waiting
        try:
            yield {"proxy": proxy, "routing": routing, "embeddings": embeddings, "responses": responses}
        finally:
            await loop_lag.stop()
            await embedder_source.close()
            await responses.close()
            if cache is not None:
                await cache.close()
            await pool.stop_health_checks()
            await client.aclose()

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            *drop_in_routes(served),
            Route("/v1/openapi.json", openapi_endpoint(config.limits), methods=["GET"]),
            Route("/v1/feedback", feedback_endpoint(resolver), methods=["POST"]),
            *protocol_routes(config.limits, config.models),
            Route("/healthz", healthz, methods=["GET"]),
            Route(
                "/metrics", metrics_endpoint(metrics, admin, admin_auth, config.admin.public_metrics), methods=["GET"]
            ),
            *admin_routes(admin, admin_auth),
            *dashboard_routes(),
        ],
        middleware=[Middleware(CatchAll)],
        # Starlette types every handler as taking any Exception; it calls this one with its HTTPException only.
        exception_handlers={HTTPException: _http_error},  # type: ignore[dict-item]
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.pool = pool
    app.state.cache = cache
    app.state.stats = request_stats
    app.state.metrics = metrics
    return app


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        message = f"Unknown request URL: {request.method} {request.url.path}."
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    else:
        message = str(exc.detail)
    # A 405 names the methods the route takes (Starlette puts them in the exception's `Allow`).
    error = OpenAIError(
        exc.status_code,
        message,
        code="unknown_url" if exc.status_code == 404 else None,
        headers=dict(exc.headers or {}),
    )
    return anthropic_error(error) if speaks_anthropic(request.url.path) else error.response()


def _json(obj: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(obj), status_code=status, media_type="application/json")
