"""The backend's admin API: tenants' fair-share accounting, and their priorities at run time.

    GET  /admin/tenants                   each tenant's service, weight, share and preemptions
    POST /admin/tenants/{tenant}/priority {"weight": W}: W > 0 times the default share from now on

A tenant is the value of the x-semgate-tenant request header (`semgate backend --tenant-header`),
which the gateway sets to its own tenant for the request; fair share must be on (`--fair-share`).
The prefix-cache salt (`--kv-salt-header`) plays no part: it only says who may share KV. A change
goes through the engine's inbox and holds from the engine's next step: the answer comes once it
is applied.
With an admin token set (`--admin-token`, or SEMGATE_BACKEND_ADMIN_TOKEN), every call
needs `Authorization: Bearer TOKEN`; without one the API is open to whoever reaches the port.
Errors are OpenAI-shaped, as on the generation routes.
"""

import hashlib
import hmac
import math
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gpu_backend.engine import AsyncEngine
from gpu_backend.engine.async_engine import Engine
from gpu_backend.errors import FairShareDisabled
from gpu_backend.server.protocol import OpenAIError

MAX_TENANT_CHARS = 256


class AdminToken:
    def __init__(self, token: str | None) -> None:
        self._digest = hashlib.sha256(token.encode()).digest() if token else None

    def check(self, authorization: str | None) -> None:
        """Raises the OpenAI-shaped 401 unless no token is set or `authorization` carries it."""
        if self._digest is None:
            return
        if not authorization:
            raise OpenAIError(
                401, "The admin API needs the admin token: 'Authorization: Bearer TOKEN'.", code="missing_admin_token"
            )
        scheme, _, token = authorization.partition(" ")
        digest = hashlib.sha256(token.strip().encode()).digest()
        if scheme.lower() != "bearer" or not hmac.compare_digest(digest, self._digest):
            raise OpenAIError(401, "Incorrect admin token.", code="invalid_admin_token")


def admin_routes(engine: AsyncEngine, token: str | None) -> list[Route]:
    guard = AdminToken(token)

    async def tenants(request: Request) -> Response:
        guard.check(request.headers.get("authorization"))
        return JSONResponse(await engine.call(_tenants))

    async def set_priority(request: Request) -> Response:
        guard.check(request.headers.get("authorization"))
        tenant = request.path_params["tenant"]
        if len(tenant) > MAX_TENANT_CHARS:
            raise OpenAIError(400, f"a tenant name has at most {MAX_TENANT_CHARS} characters", "tenant")
        weight = _weight(await request.body())
        return JSONResponse(await engine.call(lambda e: _set_priority(e, tenant, weight)))

    return [
        Route("/admin/tenants", tenants, methods=["GET"]),
        Route("/admin/tenants/{tenant}/priority", set_priority, methods=["POST"]),
    ]


def _weight(body: bytes) -> float:
    try:
        payload: Any = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise OpenAIError(400, f"the request body is not valid JSON: {error}") from None
    weight = payload.get("weight") if isinstance(payload, dict) else None
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) or weight <= 0:
        raise OpenAIError(400, 'expected {"weight": a number > 0}', "weight")
    return float(weight)


def _tenants(engine: Engine) -> dict:
    return {"object": "list", "fair_share": engine.fairness.enabled, "data": engine.fairness.tenants()}


def _set_priority(engine: Engine, tenant: str, weight: float) -> dict:
    try:
        engine.fairness.set_priority(tenant, weight)
    except FairShareDisabled as error:
        raise OpenAIError(409, str(error), code="fair_share_disabled") from None
    return next(row for row in engine.fairness.tenants() if row["tenant"] == tenant)
