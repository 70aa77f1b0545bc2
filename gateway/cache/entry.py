"""A cache entry: one question with its context fingerprint and the answer it got."""

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SHARED_NAMESPACE = "*shared*"


@dataclass
class CacheEntry:
    tenant: str  # who created it; kept even when the entry lives in the shared namespace
    namespace: str  # the tenant for private categories, SHARED_NAMESPACE for shared ones
    category: str
    model: str  # the model the client asked for
    fingerprint: str
    exact_key: str
    query_text: str
    embedding: np.ndarray | None  # float32, L2-normalised; None for exact-only entries
    request: dict[str, Any]
    response: dict[str, Any]
    expires_at: float
    producer_model: str  # the model that actually produced the answer (routing may differ)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.time)
    hit_count: int = 0
    last_hit_at: float | None = None
    utility: float = 0.0  # IC-Cache: how much this answer helps as an in-context example
    example_ids: tuple[str, ...] = ()  # IC-Cache: the examples given to the model that produced it
    # The conversation before the question, embedded once at insert (gateway/cache/context_match.py): what
    # its earlier turns say, and the assistant's closing offer. None when there is no such text.
    context_embedding: np.ndarray | None = None
    offer_embedding: np.ndarray | None = None

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at <= (time.time() if now is None else now)


def namespace_for(tenant: str, scope: str, personal: bool) -> str:
    """Private or personal categories stay with their tenant whatever else the policy says."""
    return tenant if personal or scope != "shared" else SHARED_NAMESPACE
