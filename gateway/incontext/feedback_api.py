"""POST /v1/feedback {"response_id": "...", "score": -1..1}: a client's verdict on an answer.

The response id is the `id` of a completion the gateway returned, or the `x-semgate-entry`
header of a cache hit. The score moves the utility of the answer's cache entry and of the
examples that produced it, and teaches the router (gateway/incontext/service.py). A response
id the tenant does not own is 404, exactly like one that does not exist.
"""

from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.edge.auth import TenantResolver
from gateway.edge.client_io import read_body
from gateway.edge.errors import OpenAIError, invalid
from gateway.edge.wire import json_object
from gateway.incontext.off import RoutingOff
from gateway.incontext.service import InContextService

MAX_BODY_BYTES = 16 << 10


def feedback_endpoint(resolver: TenantResolver) -> Callable[[Request], Awaitable[Response]]:
    """Feedback goes to the running IC-Cache: the `routing` the app's lifespan started (gateway/app.py)."""

    async def feedback(request: Request) -> Response:
        try:
            tenant = resolver.resolve(request.headers)
            service: InContextService | RoutingOff = request.state.routing
            if not service.takes_feedback:
                raise OpenAIError(
                    404,
                    "Feedback needs IC-Cache: `models:` in gateway.yaml and the cache on.",
                    code="feedback_disabled",
                )
            response_id, score = _parse(await read_body(request, MAX_BODY_BYTES))
            if not await service.feedback(tenant, response_id, score):
                raise OpenAIError(
                    404, f"No response with id {response_id[:80]!r}.", param="response_id", code="response_not_found"
                )
        except OpenAIError as exc:
            return exc.response()
        return Response(
            orjson.dumps({"object": "feedback", "response_id": response_id, "score": score}),
            media_type="application/json",
        )

    return feedback


def _parse(raw: bytes) -> tuple[str, float]:
    body = json_object(raw)
    response_id, score = body.get("response_id"), body.get("score")
    if not isinstance(response_id, str) or not response_id:
        raise invalid("'response_id' must be a non-empty string", param="response_id", code="invalid_type")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not -1 <= score <= 1:
        raise invalid("'score' must be a number from -1 (bad) to 1 (good)", param="score", code="invalid_value")
    return response_id, float(score)
