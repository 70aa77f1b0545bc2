"""What the cache did for one request: the one value that the response header `x-semgate-cache`, the admin
stats and the Prometheus metrics all derive from.

It is decided once per answer (`CacheDecision.outcome`) and recorded as this value; nothing reads it back
out of response headers. A lookup's `reason` (gateway/cache/semantic_cache.py) is a different thing: why
the search ended (below_threshold, guard_rejected, ...), of which the client sees only the outcome.
"""

from enum import StrEnum


class CacheOutcome(StrEnum):
    HIT = "hit"  # answered from a live entry
    STALE = "stale"  # answered from an entry past its TTL (stale-if-error, or the client allowed it)
    MISS = "miss"  # answered upstream, and the answer was (or will be) stored
    BYPASS = "bypass"  # the cache was not consulted (off, no-cache, not cacheable, lookup failed)
    STORE_SKIPPED = "store-skipped"  # looked up and missed, but the answer was not kept
