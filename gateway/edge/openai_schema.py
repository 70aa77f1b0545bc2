"""The OpenAPI 3.1 document of the OpenAI routes the gateway serves (GET /v1/openapi.json).

It describes what gateway/edge/wire.py enforces, not all of OpenAI's API: the fields the gateway
checks are typed and bounded here; every other field passes through to the upstream
unchanged, so request objects stay open (additionalProperties). Answers are the upstream's
or the cache's, in OpenAI's shapes; every error is the one OpenAI error shape.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.edge.drop_in_schema import ANTHROPIC_ERROR, drop_in_paths
from gateway.edge.errors import error_schema
from gateway.edge.limits import Limits
from gateway.edge.openapi_parts import MODEL_OBJECT, Schema, json_response, post_operation
from gateway.edge.wire import INT_RANGES, NUMBER_RANGES

ERROR: Schema = error_schema()
_ROLES = ["system", "developer", "user", "assistant", "tool", "function"]
_USAGE: Schema = {
    "type": "object",
    "properties": {k: {"type": "integer"} for k in ("prompt_tokens", "completion_tokens", "total_tokens")},
}
_SAMPLING: dict[str, Schema] = {
    **{k: {"type": "number", "minimum": low, "maximum": high} for k, (low, high) in NUMBER_RANGES.items()},
    **{
        k: {"type": "integer", "minimum": low, **({} if high is None else {"maximum": high})}
        for k, (low, high) in INT_RANGES.items()
    },
    "seed": {"type": "integer"},
    "stream": {"type": ["boolean", "null"]},
    "stream_options": {"type": ["object", "null"], "properties": {"include_usage": {"type": "boolean"}}},
    "semgate": {
        "type": "object",
        "additionalProperties": False,
        "description": "Per-request cache controls",
        "properties": {
            "no_cache": {"type": "boolean"},
            "no_store": {"type": "boolean"},
            "ttl": {"type": "number", "minimum": 0},
        },
    },
}
_COMPLETION_META: dict[str, Schema] = {
    "id": {"type": "string"},
    "object": {"type": "string"},
    "created": {"type": "integer"},
    "model": {"type": "string"},
    "usage": _USAGE,
}
_FINISH = {"type": ["string", "null"]}
# One server-sent event of a streamed answer: a chunk as JSON, an error as JSON, or [DONE].
_EVENT: Schema = {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}
_ERRORS = {
    "400": "Invalid request (the message and `param` name the field)",
    "401": "Missing or wrong API key",
    "404": "Unknown model",
    "408": "The request head or body did not arrive within the configured timeouts",
    "413": "Body, message count or message text over the configured limits",
    "431": "Request headers over the configured limits",
    "429": "The upstream asked to slow down",
    "500": "The gateway failed (internal_error)",
    "502": "The upstream failed, is unreachable, or answered something that is not an OpenAI answer",
    "503": "The upstream is unavailable (circuit breaker open)",
    "504": "The upstream timed out (timeouts.read_s, or the whole answer past timeouts.total_s)",
}


def openai_document(
    limits: Limits = Limits(), models: list[str] | None = None, embedding_models: list[str] | None = None
) -> dict[str, Any]:
    """`models`, `embedding_models`: when given, the `model` fields list them (what this gateway serves)."""
    model: Schema = {"type": "string", "minLength": 1}
    if models:
        model = {**model, "enum": list(models)}
    text = {"type": "string", "maxLength": limits.max_message_chars}
    part = {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}, "text": text}}
    message = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"enum": _ROLES},
            "content": {"anyOf": [text, {"type": "array", "items": part}]},
            "name": {"type": "string"},
        },
    }
    chat_request = {
        "type": "object",
        "required": ["model", "messages"],
        "properties": {
            "model": model,
            "messages": {"type": "array", "items": message, "minItems": 1, "maxItems": limits.max_messages},
            **_SAMPLING,
        },
    }
    prompt = {
        "anyOf": [
            text,
            {"type": "array", "items": text, "minItems": 1},
            {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        ]
    }
    completion_request = {
        "type": "object",
        "required": ["model", "prompt"],
        "properties": {"model": model, "prompt": prompt, **_SAMPLING},
    }
    chat_answer = _answer(
        {
            "index": {"type": "integer"},
            "finish_reason": _FINISH,
            "message": {
                "type": "object",
                "properties": {"role": {"type": "string"}, "content": {"type": ["string", "null"]}},
            },
        }
    )
    completion_answer = _answer({"index": {"type": "integer"}, "text": {"type": "string"}, "finish_reason": _FINISH})
    model_list = {
        "type": "object",
        "required": ["object", "data"],
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": MODEL_OBJECT},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "semgate OpenAI-compatible API",
            "version": "1",
            "description": "The OpenAI routes semgate serves; point any OpenAI SDK at /v1. Cache signals "
            "come back in x-semgate-* headers.",
        },
        "servers": [{"url": "/"}],
        "security": [{"apiKey": []}, {}],
        "paths": {
            "/v1/chat/completions": {
                "post": _post(
                    "createChatCompletion", "Chat completion, from the cache or upstream", chat_request, chat_answer
                )
            },
            "/v1/completions": {
                "post": _post(
                    "createCompletion",
                    "Text completion, from the cache or upstream",
                    completion_request,
                    completion_answer,
                )
            },
            "/v1/models": {
                "get": {
                    "operationId": "listModels",
                    "summary": "Models the upstreams serve, and the gateway's own embedding model",
                    "responses": {
                        "200": json_response("OK", model_list),
                        **{s: json_response(_ERRORS[s], ERROR) for s in ("401", "431")},
                    },
                }
            },
            **drop_in_paths(model, text, ERROR, embedding_models),
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "AnthropicError": ANTHROPIC_ERROR},
        },
    }


def openapi_endpoint(limits: Limits) -> Callable[[Request], Awaitable[Response]]:
    """GET /v1/openapi.json: public, like the routes' shapes themselves."""
    document = orjson.dumps(openai_document(limits))

    async def endpoint(request: Request) -> Response:
        return Response(document, media_type="application/json")

    return endpoint


def _post(operation_id: str, summary: str, request: Schema, answer: Schema) -> dict[str, Any]:
    streamed = ("The answer; with stream=true, server-sent events ending with `data: [DONE]`", _EVENT)
    errors = {status: json_response(text, ERROR) for status, text in _ERRORS.items()}
    return post_operation(operation_id, summary, request, answer, streamed, errors)


def _answer(choice: dict[str, Schema]) -> Schema:
    """A chat or text completion answer: the common fields and a list of choices with `choice`'s fields."""
    return {
        "type": "object",
        "required": ["choices"],
        "properties": {
            **_COMPLETION_META,
            "choices": {"type": "array", "items": {"type": "object", "properties": choice}},
        },
    }
