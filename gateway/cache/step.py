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
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gateway.cache.outcome import CacheOutcome
from gateway.cache.reading import ON_LOOP_CHARS
from gateway.cache.semantic_cache import CacheControls, LookupResult, SemanticCache
from gateway.cache.stale_if_error import stale_lookup, stale_reason
from gateway.cache.store import StoreUnavailable
from gateway.edge.errors import OpenAIError, invalid
from gateway.edge.request import GatewayRequest
from gateway.edge.wire import ParsedRequest
from policies.adaptive import LoadAdaptivePolicy
from policies.classifier import CategoryClassifier
from policies.reload import ActivePolicy, PolicyHolder
from policies.schema import CategoryPolicy, SLOClass

log = logging.getLogger(__name__)


@dataclass
class CacheDecision:
    policy: CategoryPolicy  # the category's effective (load-adjusted) policy
    controls: CacheControls
    embedding: np.ndarray | None
    lookup: LookupResult | None
    bypass_reason: str | None = None
    stale_reason: str | None = None  # the upstream error a stale entry answers for (gateway/cache/stale_if_error.py)
    slo: SLOClass | None = None  # the category's slo_class, from the policy the category came from

    looked_up = True  # the lookup ran (its latency is recorded), whatever it found

    @property
    def hit(self) -> bool:
        return self.lookup is not None and self.lookup.hit

    @property
    def category(self) -> str:
        return self.policy.name

    @property
    def may_store(self) -> bool:
        return self.bypass_reason is None and self.policy.cacheable and not self.controls.no_store

    def outcome(self, stored: bool | None = None) -> CacheOutcome:
        """`stored`: whether the answer was kept, once known (non-streamed answers)."""
        if self.lookup is not None and self.lookup.hit:
            return CacheOutcome.STALE if self.lookup.stale else CacheOutcome.HIT
        if self.bypass_reason is not None or not self.policy.cacheable or self.controls.no_cache:
            return CacheOutcome.BYPASS
        if not self.may_store or stored is False:
            return CacheOutcome.STORE_SKIPPED
        return CacheOutcome.MISS

    def headers(self, outcome: CacheOutcome | None = None) -> dict[str, str]:
        """The response headers that tell the client `outcome` (by default this decision's before storing)."""
        outcome = outcome or self.outcome()
        headers = {
            "x-semgate-cache": outcome.value,
            "x-semgate-category": self.policy.name,
            "x-semgate-threshold": f"{self.policy.similarity_threshold:.3f}",
            "x-semgate-ttl": f"{self.policy.ttl_seconds:.0f}",
        }
        lookup = self.lookup
        if lookup is not None and lookup.entry is not None:  # a hit
            headers["x-semgate-similarity"] = f"{lookup.similarity:.4f}"
            headers["x-semgate-match"] = lookup.match or "semantic"
            headers["x-semgate-entry"] = lookup.entry.id
            if lookup.stale:
                age = max(time.time() - lookup.entry.expires_at, 0.0)
                headers["x-semgate-stale-age"] = f"{age:.0f}"
                headers["x-semgate-stale-reason"] = self.stale_reason or "allow_stale"
        if self.bypass_reason:
            headers["x-semgate-bypass-reason"] = self.bypass_reason
        return headers


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

    async def stale(self, decision: CacheDecision, request: GatewayRequest, error: OpenAIError) -> CacheDecision | None:
        """An expired entry to answer with instead of the upstream's `error`, where the category allows it."""
        if decision.bypass_reason is not None:
            return None
        lookup = await stale_lookup(self.cache, request, error, decision.policy, decision.controls, decision.embedding)
        if lookup is None:
            return None
        return CacheDecision(
            decision.policy, decision.controls, decision.embedding, lookup, stale_reason=stale_reason(error)
        )

    async def remember(
        self,
        decision: CacheDecision,
        request: GatewayRequest,
        completion: dict[str, Any] | None,
        producer: str,
        example_ids: tuple[str, ...] = (),
    ) -> str | None:
        """Store a complete answer produced by the model `producer` (with in-context examples `example_ids`);
        the new entry's id, or None when it was not stored (and why is logged)."""
        if completion is None or not decision.may_store:
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
