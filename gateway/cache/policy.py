"""The part of a category policy the cache reads (policies.schema.CategoryPolicy provides it).

The cache only reads these attributes, so any object with them works: the gateway passes
the effective (load-adjusted) policy of the request's category.
"""

from typing import Protocol

from gateway.cache.guards import GuardSwitches


class CachePolicy(Protocol):
    """Read-only, so a frozen policies.schema.CategoryPolicy provides it."""

    @property
    def name(self) -> str: ...

    @property
    def cacheable(self) -> bool: ...

    @property  # cosine floor for a semantic candidate
    def similarity_threshold(self) -> float: ...

    @property  # run the duplicate verifier on candidates
    def verify(self) -> bool: ...

    @property  # minimum verifier probability for a semantic hit
    def verifier_threshold(self) -> float: ...

    @property
    def ttl_seconds(self) -> float: ...

    @property  # an expired entry may answer this long past its TTL while the upstream fails
    def stale_if_error_s(self) -> float: ...

    @property  # quota per (namespace, category)
    def max_entries(self) -> int: ...

    @property  # "lru" | "lfu"
    def eviction(self) -> str: ...

    @property  # "private" | "shared"
    def scope(self) -> str: ...

    @property  # forces private
    def personal(self) -> bool: ...

    @property
    def cache_tool_calls(self) -> bool: ...

    @property  # store answers cut at the max_tokens their request set (gateway/cache/storable.py)
    def cache_cut_answers(self) -> bool: ...

    @property
    def guards(self) -> GuardSwitches: ...
