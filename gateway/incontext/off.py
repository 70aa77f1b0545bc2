"""IC-Cache when it is off (no `models:` in gateway.yaml, or the cache off): every request goes to the
model it asked for, with its own body; nothing is observed, planned or recorded."""

from gateway.cache.decision import Decision
from gateway.edge.request import GatewayRequest
from gateway.incontext.plan import Direct
from gateway.observe.stats import RequestTrace


class RoutingOff:
    takes_feedback = False

    def served_model(self, requested: str) -> str:
        return requested

    async def observe(self, request: GatewayRequest, decision: Decision) -> None:
        return None

    async def plan(self, request: GatewayRequest, decision: Decision) -> Direct:
        return Direct(request.upstream, request.body)

    async def feedback(self, tenant: str, response_id: str, score_: float) -> bool:
        return False  # no answer of a service that is off is known (takes_feedback turns the request away first)

    def record(self, trace: RequestTrace) -> None:
        return None
