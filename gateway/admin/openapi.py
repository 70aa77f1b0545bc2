"""The OpenAPI 3.1 document of the admin API, generated from the operation table."""

from typing import Any

from gateway.admin import schemas
from gateway.admin.operations import Operation

_ERROR_REF = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_COMMON_ERRORS = {
    400: "Invalid input (the message names the field)",
    401: "No admin token, or a wrong one",
    403: "A tenant API key instead of the admin token, or the admin API is disabled (no token configured)",
    431: "Request headers over the gateway's limits",
}


def openapi_document(ops: list[Operation], prefix: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(prefix + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "semgate admin API",
            "version": "1",
            "description": "Inspect and steer the semantic cache. Every route needs the admin token "
            "(`Authorization: Bearer TOKEN`, the token from the environment variable named by "
            "`admin.token_env`, default SEMGATE_ADMIN_TOKEN). Errors use the OpenAI error shape.",
        },
        "servers": [{"url": "/"}],
        "security": [{"adminToken": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": schemas.ERROR, "PolicyIssue": schemas.POLICY_ISSUE},
        },
    }


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schema} for name, schema in op.path_params.items()
    ]
    parameters += [
        {
            "name": name,
            "in": "query",
            "required": name in op.required_query,
            "schema": schema,
            **({"description": schema["description"]} if "description" in schema else {}),
        }
        for name, schema in op.query.items()
    ]
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {"application/json": {"schema": op.answer}}}}
    errors = {
        **_COMMON_ERRORS,
        **({413: "The body is larger than the admin API's limit"} if op.body else {}),
        **op.errors,
    }
    for status, description in sorted(errors.items()):
        responses[str(status)] = {"description": description, **_ERROR_REF}
    out["responses"] = responses
    return out
