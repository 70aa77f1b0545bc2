"""The cache step when the cache is off: every request bypasses it; nothing is read, stored or counted.

The proxy runs the same steps whether the cache is on or not; this layer and its decision answer them
with "not consulted", so no stage asks whether the cache exists.
"""

from collections.abc import Mapping
from typing import Any

from gateway.cache.decision import BYPASSED, Bypassed, Decision
from gateway.cache.semantic_cache import CacheControls
from gateway.edge.errors import OpenAIError
from gateway.edge.request import GatewayRequest
from gateway.edge.wire import ParsedRequest


class CacheOff:
    @staticmethod
    def controls(headers: Mapping[str, str], parsed: ParsedRequest) -> CacheControls:
        # Not validated: a malformed control is no error while nothing reads it.
        return CacheControls()

    async def consult(self, request: GatewayRequest) -> Bypassed:
        return BYPASSED

    async def remember(
        self,
        decision: Decision,
        request: GatewayRequest,
        completion: dict[str, Any] | None,
        producer: str,
        example_ids: tuple[str, ...] = (),
    ) -> None:
        return None

    async def stale(self, decision: Decision, request: GatewayRequest, error: OpenAIError) -> None:
        return None
