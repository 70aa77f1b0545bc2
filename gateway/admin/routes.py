"""The admin operations as Starlette routes: authenticate, validate, call, answer JSON.

Every failure, from a missing token to a handler bug, answers in the one error shape
{"error": {"message", "type", "param", "code"}}.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin.auth import AdminAuth
from gateway.admin.call import Call
from gateway.admin.context import AdminContext
from gateway.admin.openapi import openapi_document
from gateway.admin.operations import Operation, operations
from gateway.admin.validation import SchemaViolation, coerce_query, validate
from gateway.edge.errors import OpenAIError, invalid

_Value = TypeVar("_Value")

log = logging.getLogger(__name__)
PREFIX = "/admin/v1"
MAX_BODY_BYTES = 2 << 20


def admin_routes(ctx: AdminContext, auth: AdminAuth) -> list[Route]:
    ops = operations()
    document = orjson.dumps(openapi_document(ops, PREFIX))

    async def openapi(request: Request) -> Response:
        return Response(document, media_type="application/json")

    routes = [Route(f"{PREFIX}/openapi.json", openapi, methods=["GET"])]
    routes += [Route(PREFIX + op.path, _endpoint(op, ctx, auth), methods=[op.method]) for op in ops]
    return routes


def _endpoint(op: Operation, ctx: AdminContext, auth: AdminAuth) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            auth.check(request.headers)
            call = Call(ctx, path=dict(request.path_params), query=_query(op, request), body=await _body(op, request))
            for name, schema in op.path_params.items():
                _check(call.path[name], schema, name)
            answer = await op.handler(call)
        except OpenAIError as exc:
            return exc.response()
        except Exception:
            log.exception("admin %s %s failed", op.method, op.path)
            return OpenAIError(
                500, "Internal error in the admin API; the gateway log has the details.", code="internal_error"
            ).response()
        return Response(orjson.dumps(answer), media_type="application/json")

    return endpoint


def _query(op: Operation, request: Request) -> dict:
    values = {}
    for name, raw in request.query_params.items():
        schema = op.query.get(name)
        if schema is None:
            allowed = ", ".join(op.query) or "none"
            raise invalid(
                f"Unknown query parameter '{name}' (allowed: {allowed}).", param=name, code="unknown_parameter"
            )
        values[name] = _check(coerce_query(raw, schema), schema, name)
    for name in op.required_query:
        if name not in values:
            raise invalid(f"The query parameter '{name}' is required.", param=name, code="missing_required_parameter")
    return values


async def _body(op: Operation, request: Request) -> dict | None:
    if op.body is None:
        return None
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise OpenAIError(
            413, f"Request body is larger than the limit of {MAX_BODY_BYTES} bytes.", code="request_too_large"
        )
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as exc:
        raise invalid(f"The body is not valid JSON: {exc}", code="invalid_json") from exc
    return _check(body, op.body, None)


def _check(value: _Value, schema: dict, param: str | None) -> _Value:
    try:
        validate(value, schema)
    except SchemaViolation as exc:
        where = ".".join(p for p in (param, exc.path) if p)
        raise invalid(
            f"'{where}' {exc.message}" if where else f"The body {exc.message}",
            param=where or None,
            code="invalid_value",
        ) from exc
    return value
