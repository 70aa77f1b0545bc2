"""The cache step when the cache is off: every request bypasses it; nothing is read, stored or counted.

The proxy runs the same steps whether the cache is on or not; this layer and its decision answer them
with "not consulted", so no stage asks whether the cache exists.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.cache.outcome import CacheOutcome
from gateway.cache.semantic_cache import CacheControls
from gateway.cache.step import CacheDecision
from gateway.edge.errors import OpenAIError
from gateway.edge.request import GatewayRequest
from gateway.edge.wire import ParsedRequest


@dataclass(frozen=True)
class Bypassed:
    """The decision of a cache that was not consulted: it is off, or the request failed before the lookup."""

    hit: bool = False
    may_store: bool = False
    looked_up: bool = False  # no lookup, so no lookup latency to record
    embedding: None = None
    category: None = None
    slo: None = None

    def outcome(self, stored: bool | None = None) -> CacheOutcome:
        return CacheOutcome.BYPASS

    def headers(self, outcome: CacheOutcome | None = None) -> dict[str, str]:
        return {"x-semgate-cache": CacheOutcome.BYPASS.value}


BYPASSED = Bypassed()
Decision = CacheDecision | Bypassed  # what a cache step (on or off) decided for a request


class CacheOff:
    @staticmethod
    def controls(headers: Mapping[str, str], parsed: ParsedRequest) -> CacheControls:
        # Not validated: a malformed control is no error while nothing reads it.
        return CacheControls()

    async def consult(self, request: GatewayRequest) -> Bypassed:
        return BYPASSED

    async def remember(
        self,
        decision: Bypassed,
        request: GatewayRequest,
        completion: dict[str, Any] | None,
        producer: str,
        example_ids: tuple[str, ...] = (),
    ) -> None:
        return None

    async def stale(self, decision: Bypassed, request: GatewayRequest, error: OpenAIError) -> None:
        return None
