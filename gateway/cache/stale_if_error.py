"""Stale-if-error: when the upstream cannot answer a miss, an expired entry may answer instead.

Only when the category allows it (`stale_if_error_s` > 0: how long past its TTL an entry may
still answer) and only for failures that are not the client's: the upstream unreachable, timed
out, answering 5xx or 429, or its circuit breaker open. The lookup is the usual one (same
tenant namespace, fingerprint, threshold, guards and verifier) with expired entries admitted;
the answer says so in `x-semgate-cache: stale`, `x-semgate-stale-age` (seconds past its TTL)
and `x-semgate-stale-reason` (the upstream error it stands in for).
"""

import logging

import numpy as np

from gateway.cache.semantic_cache import CacheControls, LookupResult, SemanticCache
from gateway.edge.errors import OpenAIError
from gateway.edge.request import GatewayRequest
from policies.schema import CategoryPolicy

log = logging.getLogger(__name__)


def stands_in_for(error: OpenAIError) -> bool:
    """Failures of the upstream (not of the request) that a stale answer may cover."""
    return error.status >= 500 or error.status == 429


def stale_reason(error: OpenAIError) -> str:
    """What `x-semgate-stale-reason` says a stale answer stands in for."""
    return error.code or f"upstream_{error.status}"


async def stale_lookup(
    cache: SemanticCache,
    request: GatewayRequest,
    error: OpenAIError,
    policy: CategoryPolicy,
    controls: CacheControls,
    embedding: np.ndarray | None,
) -> LookupResult | None:
    """An expired entry that may answer instead of `error` (the cache step makes it a decision), or None."""
    if not stands_in_for(error) or policy.stale_if_error_s <= 0 or controls.no_cache:
        return None
    try:
        lookup = await cache.lookup(
            request.tenant,
            policy,
            request.body,
            embedding,
            controls,
            allow_stale=True,
            max_stale_s=policy.stale_if_error_s,
            key=request.key,
        )
    except Exception:
        log.exception("stale-if-error lookup failed")
        return None
    return lookup if lookup.hit else None
