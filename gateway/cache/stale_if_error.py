"""Stale-if-error: when the upstream cannot answer a miss, an expired entry may answer instead.

Only when the category allows it (`stale_if_error_s` > 0: how long past its TTL an entry may
still answer) and only for failures that are not the client's: the upstream unreachable, timed
out, answering 5xx or 429, or its circuit breaker open. The lookup is the usual one (same
tenant namespace, fingerprint, threshold, guards and verifier) with expired entries admitted;
the answer says so in `x-semgate-cache: stale`, `x-semgate-stale-age` (seconds past its TTL)
and `x-semgate-stale-reason` (the upstream error it stands in for).
"""

import logging

from gateway.cache.step import CacheDecision, CacheLayer
from gateway.edge.errors import OpenAIError
from gateway.edge.request import GatewayRequest

log = logging.getLogger("semgate.cache")


def stands_in_for(error: OpenAIError) -> bool:
    """Failures of the upstream (not of the request) that a stale answer may cover."""
    return error.status >= 500 or error.status == 429


async def stale_decision(layer: CacheLayer | None, decision: CacheDecision | None, request: GatewayRequest,
                         error: OpenAIError) -> CacheDecision | None:
    """The decision to answer with a stale entry instead of `error`, or None when none may."""
    if layer is None or decision is None or not stands_in_for(error):
        return None
    policy = decision.policy
    if policy.stale_if_error_s <= 0 or decision.bypass_reason is not None or decision.controls.no_cache:
        return None
    try:
        lookup = await layer.cache.lookup(request.tenant, policy, request.body, decision.embedding, decision.controls,
                                          allow_stale=True, max_stale_s=policy.stale_if_error_s, key=request.key)
    except Exception:  # noqa: BLE001 - the upstream error is still the answer
        log.exception("stale-if-error lookup failed")
        return None
    if not lookup.hit:
        return None
    reason = error.code or f"upstream_{error.status}"
    return CacheDecision(policy, decision.controls, decision.embedding, lookup, stale_reason=reason)
