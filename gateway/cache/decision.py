"""What the cache step decided for one request: a lookup's result and the category's policy, or "not consulted".

Both kinds answer the proxy's questions alike (hit, the entry it hit, may it store, the outcome and its
headers), so no stage asks whether the cache is on.
"""

import time
from dataclasses import dataclass, replace

import numpy as np

from gateway.cache.entry import CacheEntry
from gateway.cache.outcome import CacheOutcome
from gateway.cache.semantic_cache import CacheControls, LookupResult
from policies.schema import CategoryPolicy, SLOClass


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

    @property
    def served(self) -> "CacheHit | None":
        """What answers this request, on a hit."""
        if self.lookup is None or not self.lookup.hit or self.lookup.entry is None:
            return None
        return CacheHit(self.lookup.entry, self.policy)

    def without_hit(self) -> "CacheDecision":
        """The same decision as a miss: the request goes upstream and its answer may replace the entry."""
        return replace(self, lookup=None)


@dataclass(frozen=True)
class CacheHit:
    """The entry that answers a request, and the policy its replay follows (how a stream is cut)."""

    entry: CacheEntry
    policy: CategoryPolicy


@dataclass(frozen=True)
class Bypassed:
    """The decision of a cache that was not consulted: it is off, or the request failed before the lookup."""

    hit: bool = False
    may_store: bool = False
    looked_up: bool = False  # no lookup, so no lookup latency to record
    embedding: None = None
    category: None = None
    slo: None = None
    served: None = None

    def outcome(self, stored: bool | None = None) -> CacheOutcome:
        return CacheOutcome.BYPASS

    def headers(self, outcome: CacheOutcome | None = None) -> dict[str, str]:
        return {"x-semgate-cache": CacheOutcome.BYPASS.value}

    def without_hit(self) -> "Bypassed":
        return self


BYPASSED = Bypassed()
Decision = CacheDecision | Bypassed  # what a cache step (on or off) decided for a request
