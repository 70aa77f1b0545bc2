"""Parsing and validating OpenAI requests before anything else looks at them.

Validation is deliberately strict on the fields the gateway itself relies on (model,
messages/prompt, stream, n, the semgate extension) and lenient on everything else, which
is passed through to the upstream unchanged so new OpenAI parameters keep working.
"""

from dataclasses import dataclass
from typing import Any

import orjson

from gateway.edge.errors import OpenAIError, invalid
from gateway.edge.json_depth import deeper_than
from gateway.edge.limits import Limits

CHAT = "chat"
COMPLETION = "completion"
EMBEDDINGS = "embeddings"  # not a chat wire: its own route (gateway/edge/embeddings_route.py), counted by this name
# Routes whose requests an adapter at the edge turns into a chat body (gateway/protocols/): they name
# the route in traces and stats, while the pipeline reads and stores their answers as chat completions.
RESPONSES = "responses"
MESSAGES = "messages"
_ANSWER_FORMATS = {CHAT: CHAT, COMPLETION: COMPLETION, RESPONSES: CHAT, MESSAGES: CHAT}
_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}
# The OpenAI API's ranges: a value outside them is a 400 there, so it is one here too, before the
# cache or a routed model's forced settings (IC-Cache) could answer it anyway.
NUMBER_RANGES = {"temperature": (0, 2), "top_p": (0, 1), "presence_penalty": (-2, 2), "frequency_penalty": (-2, 2)}
_INT_FIELDS = ("max_tokens", "max_completion_tokens", "n", "seed", "top_k")
# Integer fields with bounds (None: no upper bound), checked like NUMBER_RANGES.
INT_RANGES: dict[str, tuple[int, int | None]] = {
    "max_tokens": (1, None),
    "max_completion_tokens": (1, None),
    "n": (1, 128),
}
# Deeper bodies parse but cannot be serialised again (orjson stops at 255 levels) and could exhaust
# Python's recursion anywhere they are walked; no OpenAI request needs more (tool schemas included).
MAX_JSON_DEPTH = 64
_EXACT_FLOAT_INT = 2**53  # beyond it a float no longer stands for one integer (and may not fit 64 bits)


def answer_format(wire: str) -> str:
    """The format the upstream answers a request arriving on `wire` in (and the cache stores): CHAT or COMPLETION."""
    return _ANSWER_FORMATS[wire]


@dataclass
class ParsedRequest:
    kind: str  # CHAT or COMPLETION
    body: dict[str, Any]  # what goes upstream (the semgate extension removed)
    model: str
    stream: bool
    include_usage: bool
    semgate: dict[str, Any]  # the per-request extension: {"no_cache", "no_store", "ttl"}


def json_object(raw: bytes) -> dict[str, Any]:
    """A request body that must be one JSON object, or the OpenAI-shaped 400 saying why not."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"We could not parse the JSON body of your request: {exc}", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.", code="invalid_json")
    if deeper_than(raw, MAX_JSON_DEPTH):
        raise invalid(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.", code="json_too_deep")
    return body


def parse_request(raw: bytes, kind: str, limits: Limits) -> ParsedRequest:
    body = json_object(raw)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid(
            "you must provide a model parameter" if model is None else "'model' must be a non-empty string",
            param="model",
            code="missing_required_parameter" if model is None else "invalid_type",
        )
    if kind == CHAT:
        _check_messages(body.get("messages"), limits)
    else:
        _check_prompt(body.get("prompt"), limits.max_message_chars)
    stream = body.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise invalid("'stream' must be a boolean", param="stream", code="invalid_type")
    for name, (low, high) in NUMBER_RANGES.items():
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise invalid(f"'{name}' must be a number", param=name, code="invalid_type")
        if value is not None and not low <= value <= high:
            raise invalid(f"'{name}' must be between {low} and {high}, got {value}", param=name, code="invalid_value")
    for name in _INT_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_FLOAT_INT:
            # JSON Schema's "integer" (the published schema) takes 1.0; the upstream is sent 1.
            value = body[name] = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(f"'{name}' must be an integer", param=name, code="invalid_type")
        least, most = INT_RANGES.get(name, (None, None))
        if least is not None and value < least:
            raise invalid(f"'{name}' must be at least {least}, got {value}", param=name, code="invalid_value")
        if most is not None and value > most:
            raise invalid(f"'{name}' must be at most {most}, got {value}", param=name, code="invalid_value")
    stream_options = body.get("stream_options")
    if stream_options is not None and not isinstance(stream_options, dict):
        raise invalid("'stream_options' must be an object", param="stream_options", code="invalid_type")
    semgate = _pop_extension(body)
    return ParsedRequest(
        kind=kind,
        body=body,
        model=model,
        stream=stream,
        include_usage=bool((stream_options or {}).get("include_usage")),
        semgate=semgate,
    )


def _check_messages(messages: Any, limits: Limits) -> None:
    if messages is None:
        raise invalid("Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter")
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty array", param="messages", code="invalid_type")
    if len(messages) > limits.max_messages:
        raise OpenAIError(
            413,
            f"'messages' has {len(messages)} items; the limit is {limits.max_messages}",
            param="messages",
            code="too_many_messages",
        )
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid(f"'{where}' must be an object", param=where, code="invalid_type")
        role = message.get("role")
        if not isinstance(role, str) or role not in _ROLES:  # a list or object is unhashable: test the type first
            raise invalid(
                f"'{where}.role' must be one of {sorted(_ROLES)}, got {role!r}",
                param=f"{where}.role",
                code="invalid_value",
            )
        content = message.get("content")
        if (content is None and role in ("assistant", "function")) or (content is None and message.get("tool_calls")):
            continue
        if not isinstance(content, (str, list)):
            raise invalid(
                f"'{where}.content' must be a string or an array of content parts",
                param=f"{where}.content",
                code="invalid_type",
            )
        if isinstance(content, list) and not all(
            isinstance(p, dict) and isinstance(p.get("type"), str) for p in content
        ):
            raise invalid(
                f"'{where}.content' parts must be objects with a 'type'", param=f"{where}.content", code="invalid_type"
            )
        if isinstance(content, list) and any(
            p["type"] == "text" and not isinstance(p.get("text"), str) for p in content
        ):
            raise invalid(
                f"'{where}.content' text parts need a string 'text'", param=f"{where}.content", code="invalid_type"
            )
        _check_length(_text_length(content), limits.max_message_chars, f"{where}.content")


def _check_prompt(prompt: Any, max_chars: int) -> None:
    if prompt is None:
        raise invalid("Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter")
    if isinstance(prompt, str):
        _check_length(len(prompt), max_chars, "prompt")
        return
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        for i, p in enumerate(prompt):
            _check_length(len(p), max_chars, f"prompt[{i}]")
        return
    if isinstance(prompt, list) and prompt and all(isinstance(p, int) and not isinstance(p, bool) for p in prompt):
        return
    raise invalid(
        "'prompt' must be a string, an array of strings, or an array of token ids", param="prompt", code="invalid_type"
    )


def _text_length(content: str | list) -> int:
    """Characters of text in a message: the string, or the text parts of a multi-part message."""
    if isinstance(content, str):
        return len(content)
    return sum(len(p["text"]) for p in content if p["type"] == "text")


def _check_length(chars: int, limit: int, where: str) -> None:
    if chars > limit:
        raise OpenAIError(
            413, f"'{where}' has {chars} characters; the limit is {limit}", param=where, code="message_too_long"
        )


def _pop_extension(body: dict) -> dict[str, Any]:
    ext = body.pop("semgate", None)
    if ext is None:
        return {}
    if not isinstance(ext, dict):
        raise invalid("'semgate' must be an object", param="semgate", code="invalid_type")
    allowed: dict[str, type | tuple[type, ...]] = {"no_cache": bool, "no_store": bool, "ttl": (int, float)}
    for key, value in ext.items():
        if key not in allowed:
            raise invalid(
                f"unknown field 'semgate.{key}'; allowed: {', '.join(allowed)}",
                param=f"semgate.{key}",
                code="invalid_value",
            )
        if (isinstance(value, bool) and allowed[key] is not bool) or not isinstance(value, allowed[key]):
            raise invalid(f"'semgate.{key}' has the wrong type", param=f"semgate.{key}", code="invalid_type")
    if "ttl" in ext and ext["ttl"] < 0:
        raise invalid("'semgate.ttl' must be >= 0 seconds", param="semgate.ttl", code="invalid_value")
    return ext
