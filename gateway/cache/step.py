"""The cache step of a request: controls, category, effective policy, lookup, and storing.

An exact repeat of a stored request is answered first, without embedding anything. Otherwise
the last user message is embedded once; that one vector classifies the request into a
category and searches the cache. A cache that cannot answer (the embedder failing or too
slow) never fails the request: it is bypassed, and a header says why.

A request asking for `logprobs` bypasses the cache too: they are the model's probabilities for
this very prompt, which no other question's answer carries, and a streamed answer is recorded
without them.
"""

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gateway.cache.decision import CacheDecision, Decision
from gateway.cache.reading import ON_LOOP_CHARS
from gateway.cache.semantic_cache import CacheControls, SemanticCache
from gateway.cache.stale_if_error import stale_lookup, stale_reason
from gateway.cache.store import StoreUnavailable
from gateway.edge.errors import OpenAIError, invalid
from gateway.edge.request import GatewayRequest
from gateway.edge.wire import ParsedRequest
from policies.adaptive import LoadAdaptivePolicy
from policies.classifier import CategoryClassifier
from policies.reload import ActivePolicy, PolicyHolder

log = logging.getLogger(__name__)


class CacheLayer:
    def __init__(
        self,
        cache: SemanticCache,
        policies: PolicyHolder[CategoryClassifier],
        adaptive: LoadAdaptivePolicy,
        embed_timeout_s: float = 2.0,
    ) -> None:
        self.cache = cache
        self.policies = policies
        self.adaptive = adaptive
        self.embed_timeout_s = embed_timeout_s

    @staticmethod
    def controls(headers: Mapping[str, str], parsed: ParsedRequest) -> CacheControls:
        """The request's cache controls (a 400 when malformed); a request for logprobs neither reads nor
        writes the cache."""
        controls = controls_from(headers, parsed.semgate)
        if asks_for_logprobs(parsed.body):
            controls = replace(controls, no_cache=True, no_store=True)
        return controls

    async def consult(self, request: GatewayRequest) -> CacheDecision:
        active = self.policies.current  # one policy for the whole decision, whatever reloads meanwhile
        decision = await self._decide(active, request)
        if asks_for_logprobs(request.body):
            decision.bypass_reason = decision.bypass_reason or "logprobs"
        decision.slo = active.policies.slo_class(decision.policy.slo_class)
        return decision

    async def _decide(self, active: ActivePolicy[CategoryClassifier], request: GatewayRequest) -> CacheDecision:
        tenant, controls, upstream = request.tenant, request.controls, request.upstream.name
        # An exact repeat is answered before anything is embedded (the embedding is most of a lookup).
        try:
            exact = await self.cache.find_exact_hit(
                tenant, active.policies.categories, request.body, controls, key=request.key
            )
        except Exception:
            log.exception("cache lookup failed; bypassing the cache for this request")
            return CacheDecision(active.policies.default, controls, None, None, "store_error")
        if exact is not None:
            stored_under, lookup = exact
            policy = self.adaptive.effective_category(stored_under.name, upstream)
            # The entry's vector is this very question's (same exact key), for the IC-Cache re-ask book.
            return CacheDecision(policy, controls, lookup.entry.embedding if lookup.entry else None, lookup)
        text = request.key.query_text
        embedding, reason = None, None
        if text:
            try:
                embedding = await asyncio.wait_for(self.cache.embedder.embed(text, tenant), self.embed_timeout_s)
            except TimeoutError:
                reason = "embedder_timeout"
            except Exception:
                log.exception("embedder failed; bypassing the cache for this request")
                reason = "embedder_error"
        if embedding is not None and text:  # embedded: there was text
            # A long message off the event loop: the category rules are regex scans of the whole message.
            classify = active.derived.classify
            category = (
                classify(text, embedding)
                if len(text) <= ON_LOOP_CHARS
                else await asyncio.to_thread(classify, text, embedding)
            ).category
        else:
            category = active.policies.default.name
        policy = self.adaptive.effective_category(category, upstream)
        decision = CacheDecision(policy, controls, embedding, None, reason)
        if reason is None:
            try:
                decision.lookup = await self.cache.lookup(
                    tenant,
                    policy,
                    request.body,
                    embedding,
                    controls,
                    exact_checked=not controls.no_cache,
                    key=request.key,
                )
            except Exception:
                log.exception("cache lookup failed; bypassing the cache for this request")
                decision.bypass_reason = "store_error"
        return decision

    async def stale(self, decision: Decision, request: GatewayRequest, error: OpenAIError) -> CacheDecision | None:
        """An expired entry to answer with instead of the upstream's `error`, where the category allows it."""
        if not isinstance(decision, CacheDecision) or decision.bypass_reason is not None:
            return None
        lookup = await stale_lookup(self.cache, request, error, decision.policy, decision.controls, decision.embedding)
        if lookup is None:
            return None
        return CacheDecision(
            decision.policy, decision.controls, decision.embedding, lookup, stale_reason=stale_reason(error)
        )

    async def remember(
        self,
        decision: Decision,
        request: GatewayRequest,
        completion: dict[str, Any] | None,
        producer: str,
        example_ids: tuple[str, ...] = (),
    ) -> str | None:
        """Store a complete answer produced by the model `producer` (with in-context examples `example_ids`);
        the new entry's id, or None when it was not stored (and why is logged)."""
        if completion is None or not isinstance(decision, CacheDecision) or not decision.may_store:
            return None
        try:
            return await self.cache.insert(
                request.tenant,
                decision.policy,
                request.body,
                completion,
                request.model,
                controls=decision.controls,
                query_embedding=decision.embedding,
                producer_model=producer,
                example_ids=example_ids,
                key=request.key,
            )
        except StoreUnavailable as exc:
            # Expected while a shared store is down (health says degraded): one line, not a traceback each time.
            log.warning("answer served but not cached: %s", exc)
        except Exception:
            log.exception("storing a cache entry failed")
        return None


def asks_for_logprobs(body: dict[str, Any]) -> bool:
    """Chat's `logprobs: true`, or a text completion's `logprobs: k` (0 too: the sampled tokens')."""
    value = body.get("logprobs")
    return value is not None and value is not False


def controls_from(headers: Any, extension: dict[str, Any]) -> CacheControls:
    """`Cache-Control: no-cache / no-store`, `x-semgate-ttl: SECONDS`, or `semgate: {...}` in the body."""
    directives = {d.strip().lower() for d in headers.get("cache-control", "").split(",")}
    ttl = extension.get("ttl")
    raw_ttl = headers.get("x-semgate-ttl")
    if raw_ttl is not None:
        try:
            ttl = float(raw_ttl)
        except ValueError:
            raise invalid(
                f"x-semgate-ttl must be a number of seconds, got {raw_ttl[:40]!r}", param="x-semgate-ttl"
            ) from None
        if ttl < 0:
            raise invalid("x-semgate-ttl must be >= 0", param="x-semgate-ttl")
    return CacheControls(
        no_cache="no-cache" in directives or bool(extension.get("no_cache")),
        no_store="no-store" in directives or bool(extension.get("no_store")),
        ttl_seconds=ttl,
    )
