"""The part of a category policy the cache reads (policies.schema.CategoryPolicy provides it).

The cache only reads these attributes, so any object with them works: the gateway passes
the effective (load-adjusted) policy of the request's category.
"""

from typing import Protocol

from gateway.cache.guards import GuardSwitches


class CachePolicy(Protocol):
    name: str
    cacheable: bool
    similarity_threshold: float  # cosine floor for a semantic candidate
    verify: bool  # run the duplicate verifier on candidates
    verifier_threshold: float  # minimum verifier probability for a semantic hit
    ttl_seconds: float
    stale_if_error_s: float  # an expired entry may answer this long past its TTL while the upstream fails
    max_entries: int  # quota per (namespace, category)
    eviction: str  # "lru" | "lfu"
    scope: str  # "private" | "shared"
    personal: bool  # forces private
    cache_tool_calls: bool
    guards: GuardSwitches
