"""The OpenAPI paths of the routes beyond chat (gateway/edge/openai_schema.py adds them to its document):
the Responses API, Anthropic Messages, embeddings and model lookup.

The request objects are closed (additionalProperties: false) where the adapters (gateway/protocols/) refuse
unknown fields with a 400; the fields they list are typed and bounded as the adapters check them. Errors are
OpenAI's shape, except on the Messages routes, which answer in Anthropic's (`{"type": "error", "error": ...}`).
"""

from typing import Any

from gateway.edge.openapi_parts import MODEL_OBJECT, Schema, json_response, post_operation
from gateway.protocols import anthropic_request
from gateway.protocols.embeddings_request import MAX_INPUTS

ANTHROPIC_ERROR: Schema = {
    "type": "object",
    "required": ["type", "error"],
    "properties": {
        "type": {"const": "error"},
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}
_OPEN_OBJECT: Schema = {"type": "object"}
# Ids in paths: longer ones are never issued (a longer one is simply not found).
_ID: Schema = {"type": "string", "minLength": 1, "maxLength": 256}
_TOOLS: Schema = {"type": "array", "items": _OPEN_OBJECT}
_NUMBER_0_1: Schema = {"type": "number", "minimum": 0, "maximum": 1}


def drop_in_paths(model: Schema, text: Schema, error: Schema, embedding_models: list[str] | None) -> dict[str, Any]:
    """`model`, `text`, `error`: the chat document's schemas for a model name, a bounded text and OpenAI's error.
    `embedding_models`: when given, the embeddings `model` field lists them."""
    embedding_model: Schema = {"type": "string", "minLength": 1}
    if embedding_models:
        embedding_model = {**embedding_model, "enum": list(embedding_models)}
    return {
        "/v1/responses": {
            "post": _operation(
                "createResponse",
                "A response (Responses API), cached like chat",
                _responses_request(model, text),
                _RESPONSE,
                ("400", "401", "404", "413"),
                error,
            )
        },
        "/v1/responses/{response_id}": {
            "get": _stored("getResponse", "A stored response of this tenant", _RESPONSE, error),
            "delete": _stored("deleteResponse", "Delete a stored response of this tenant", _DELETED, error),
        },
        "/v1/messages": {
            "post": _operation(
                "createMessage",
                "A message (Anthropic Messages API), cached like chat",
                _messages_request(
                    model, text, anthropic_request.ANSWER_CHANGING_FIELDS + tuple(anthropic_request.IGNORED_FIELDS)
                ),
                _MESSAGE,
                ("400", "401", "404", "413"),
                ANTHROPIC_ERROR,
            )
        },
        "/v1/messages/count_tokens": {
            "post": _operation(
                "countMessageTokens",
                "Tokens of a Messages prompt, counted with the served model's tokenizer",
                _messages_request(model, text, anthropic_request.COUNT_TOKENS_FIELDS, needs_max_tokens=False),
                {"type": "object", "required": ["input_tokens"], "properties": {"input_tokens": {"type": "integer"}}},
                ("400", "401", "404", "413"),
                ANTHROPIC_ERROR,
            )
        },
        "/v1/embeddings": {
            "post": _operation(
                "createEmbedding",
                "Embeddings, exact-cached per tenant",
                _embeddings_request(embedding_model, text),
                _EMBEDDINGS,
                ("400", "401", "404", "413"),
                error,
            )
        },
        "/v1/models/{model}": {
            "get": {
                "operationId": "retrieveModel",
                "summary": "One served model",
                "parameters": [{"name": "model", "in": "path", "required": True, "schema": _ID}],
                "responses": {"200": json_response("OK", MODEL_OBJECT), **_errors(("401", "404", "431"), error)},
            }
        },
    }


def _responses_request(model: Schema, text: Schema) -> Schema:
    fields = {
        "model": model,
        "input": {"anyOf": [text, {"type": "array", "items": _OPEN_OBJECT, "minItems": 1}]},
        "instructions": {"type": ["string", "null"]},
        "previous_response_id": {"type": ["string", "null"]},
        "tools": _TOOLS,
        "tool_choice": {"anyOf": [{"enum": ["auto", "none", "required"]}, _OPEN_OBJECT]},
        "parallel_tool_calls": {"type": "boolean"},
        "text": _OPEN_OBJECT,
        "max_output_tokens": {"type": "integer", "minimum": 1},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2},
        "top_p": _NUMBER_0_1,
        "stream": {"type": ["boolean", "null"]},
        "store": {"type": ["boolean", "null"]},
        "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "user": {"type": "string"},
        "truncation": {"const": "disabled"},
    }
    return {"type": "object", "required": ["model", "input"], "additionalProperties": False, "properties": fields}


def _messages_request(model: Schema, text: Schema, names: tuple[str, ...], needs_max_tokens: bool = True) -> Schema:
    block = {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}, "text": text}}
    message = {
        "type": "object",
        "required": ["role", "content"],
        "properties": {
            "role": {"enum": ["user", "assistant"]},
            "content": {"anyOf": [text, {"type": "array", "items": block}]},
        },
    }
    every = {
        "model": model,
        "system": {"anyOf": [text, {"type": "array", "items": block}]},
        "messages": {"type": "array", "items": message, "minItems": 1},
        "max_tokens": {"type": "integer", "minimum": 1},
        "stop_sequences": {"type": "array", "items": {"type": "string"}},
        "temperature": _NUMBER_0_1,
        "top_p": _NUMBER_0_1,
        "top_k": {"type": "integer", "minimum": 1},
        "tools": _TOOLS,
        "tool_choice": _OPEN_OBJECT,
        "output_config": _OPEN_OBJECT,
        "stream": {"type": "boolean"},
        "cache_control": _OPEN_OBJECT,
        "metadata": _OPEN_OBJECT,
        "thinking": _OPEN_OBJECT,
    }
    required = ["model", "messages", *(["max_tokens"] if needs_max_tokens else [])]
    properties = {name: every[name] for name in names}
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties}


def _embeddings_request(model: Schema, text: Schema) -> Schema:
    piece = {**text, "minLength": 1}
    return {
        "type": "object",
        "required": ["model", "input"],
        "additionalProperties": False,
        "properties": {
            "model": model,
            "input": {"anyOf": [piece, {"type": "array", "items": piece, "minItems": 1, "maxItems": MAX_INPUTS}]},
            "encoding_format": {"enum": ["float", "base64"]},
            "dimensions": {"type": "integer", "minimum": 1},
            "user": {"type": "string"},
        },
    }


_RESPONSE: Schema = {"type": "object", "required": ["id", "object", "output"]}
_DELETED: Schema = {"type": "object", "required": ["id", "deleted"]}
_MESSAGE: Schema = {"type": "object", "required": ["id", "type", "content"]}
_EMBEDDINGS: Schema = {
    "type": "object",
    "required": ["object", "data", "model", "usage"],
    "properties": {
        "object": {"const": "list"},
        "model": {"type": "string"},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["object", "index", "embedding"],
                "properties": {
                    "object": {"const": "embedding"},
                    "index": {"type": "integer"},
                    "embedding": {"anyOf": [{"type": "array", "items": {"type": "number"}}, {"type": "string"}]},
                },
            },
        },
        "usage": {"type": "object", "properties": {"prompt_tokens": {"type": "integer"}}},
    },
}
_ERROR_TEXT = {
    "400": "Invalid request (the message names the field)",
    "401": "Missing or wrong API key",
    "404": "Unknown model, or no stored response with this id for this tenant",
    "413": "Body, input count, input tokens or text over the configured limits",
    "431": "Request headers over the configured limits",
    "502": "The upstream failed, is unreachable, or answered something that is not an answer",
    "503": "The upstream is unavailable (circuit breaker open)",
    "504": "The upstream timed out",
}


def _errors(statuses: tuple[str, ...], error: Schema) -> dict[str, Any]:
    return {status: json_response(_ERROR_TEXT[status], error) for status in (*statuses, "502", "503", "504")}


def _operation(
    operation_id: str,
    summary: str,
    request: Schema,
    answer: Schema,
    statuses: tuple[str, ...],
    error: Schema,
) -> dict[str, Any]:
    streamed = ("The answer; with stream=true, server-sent events", _OPEN_OBJECT)
    return post_operation(operation_id, summary, request, answer, streamed, _errors(statuses, error))


def _stored(operation_id: str, summary: str, answer: Schema, error: Schema) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "parameters": [{"name": "response_id", "in": "path", "required": True, "schema": _ID}],
        "responses": {"200": json_response("OK", answer), **_errors(("401", "404"), error)},
    }
