"""One request as every stage reads it: authenticated, parsed, fingerprinted and routed once, at the edge.

The stages after the edge (cache step, IC-Cache, upstream call, relay, stale-if-error) take this object
and never go back to the HTTP request, the raw body or the fingerprint function. A wire format is a
parser into it: chat and text completions today; a new API is one more parser, not a second pipeline.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from gateway.cache.fingerprint import RequestKey, request_key
from gateway.cache.semantic_cache import CacheControls
from gateway.edge.auth import TenantResolver
from gateway.edge.client_io import read_body
from gateway.edge.limits import Limits
from gateway.edge.wire import ParsedRequest, answer_format
from gateway.edge.wire_adapter import WireAdapter
from gateway.observe.stats import RequestTrace
from gateway.upstream.hints import client_slo
from gateway.upstream.pool import Upstream, UpstreamPool


@dataclass(frozen=True)
class GatewayRequest:
    tenant: str  # from the API key; scopes every cache, memo and learner
    wire: str  # the route it arrived on (gateway/edge/wire.py: CHAT, COMPLETION, RESPONSES, MESSAGES)
    model: str  # the model the client asked for (answers name it)
    body: dict[str, Any]  # what goes upstream, the semgate extension removed
    stream: bool
    include_usage: bool
    controls: CacheControls  # the client's cache controls (headers and the `semgate` body field)
    key: RequestKey  # the fingerprint: computed here, once
    upstream: Upstream  # the upstream serving `model`, resolved here, once
    slo: Mapping[str, float]  # the client's own objectives (x-semgate-slo-* headers), in ms
    headers: Mapping[str, str]  # for a stage with a header of its own (IC-Cache's model pin)

    @property
    def answer_format(self) -> str:
        """CHAT or COMPLETION: what `body` is, and what the upstream answers and the cache stores."""
        return answer_format(self.wire)


@dataclass(frozen=True)
class Reception:
    """What the edge needs to turn an HTTP request into a GatewayRequest."""

    resolver: TenantResolver
    pool: UpstreamPool
    limits: Limits
    served_model: Callable[[str], str]  # the upstream model behind a requested one (IC-Cache aliases)
    controls: Callable[[Mapping[str, str], ParsedRequest], CacheControls]  # the cache's reading of its controls

    async def receive(self, http: Request, adapter: WireAdapter, trace: RequestTrace) -> GatewayRequest:
        """The request, or the OpenAI-shaped error (OpenAIError) of the first thing wrong with it, in this
        order: key, SLO headers, body, model, cache controls. `trace` learns each label as it is known."""
        trace.route = adapter.wire
        tenant = trace.tenant = self.resolver.resolve(http.headers, x_api_key=adapter.accepts_x_api_key)
        objectives = client_slo(http.headers)
        parsed = await adapter.parse(await read_body(http, self.limits.max_body_bytes), tenant)
        upstream = await self.pool.resolve(self.served_model(parsed.model))
        trace.model, trace.upstream = parsed.model, upstream.name  # only served models: labels stay bounded
        controls = self.controls(http.headers, parsed)
        return GatewayRequest(
            tenant,
            adapter.wire,
            parsed.model,
            parsed.body,
            parsed.stream,
            parsed.include_usage,
            controls,
            request_key(parsed.body),
            upstream,
            objectives,
            http.headers,
        )
