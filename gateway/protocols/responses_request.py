"""`POST /v1/responses` body -> the canonical chat-completions body, plus what the answer must echo.

The chat body is what the gateway fingerprints, caches and forwards; every field listed in
ANSWER_CHANGING_FIELDS lands in it, so two requests that differ in one of them never share a cache
entry. IGNORED_FIELDS are accepted and leave the answer alone (each says why); anything else is
refused with a 400 naming it, never dropped.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.protocols.errors import check_fields, invalid, require_object, unsupported
from gateway.protocols.responses_items import items_to_messages, normalize_input

ANSWER_CHANGING_FIELDS = (
    "model",
    "input",
    "instructions",
    "previous_response_id",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "text",
    "max_output_tokens",
    "temperature",
    "top_p",
)
IGNORED_FIELDS = {
    "stream": "transport only: the streamed and the whole answer are the same answer",
    "store": "decides whether the response is kept for GET and previous_response_id, not what it says",
    "metadata": "the client's own labels, echoed back on the response",
    "user": "end-user attribution for abuse monitoring; forwarded as chat's 'user'",
    "truncation": "only 'disabled' is accepted: the gateway never drops context to fit the window",
}
_FORMATS = ("text", "json_object", "json_schema")


@dataclass
class ResponsesRequest:
    chat: dict[str, Any]  # the canonical chat-completions body
    input_items: list[dict[str, Any]]  # this turn's input, normalised, for the stored conversation
    stream: bool = False
    store: bool = True
    previous_response_id: str | None = None
    echo: dict[str, Any] = field(default_factory=dict)  # request fields the response object repeats


def parse_responses_request(body: Any, earlier: Sequence[dict[str, Any]] | None = None) -> ResponsesRequest:
    """`earlier`: the items of the conversation `previous_response_id` names (resolved by the store),
    None when the request names none."""
    # Some clients send null for "not given"; a null field is an absent one, known or not.
    body = {k: v for k, v in require_object(body).items() if v is not None}
    check_fields(body, set(ANSWER_CHANGING_FIELDS) | set(IGNORED_FIELDS))
    previous = body.get("previous_response_id")
    if (previous is None) != (earlier is None):
        raise ValueError("pass the resolved conversation exactly when previous_response_id is given")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("'model' is required and must be a string.", "model")
    items = normalize_input(body.get("input"))
    messages = items_to_messages([*(earlier or ()), *items])
    instructions = body.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise invalid("'instructions' must be a string.", "instructions")
        messages.insert(0, {"role": "system", "content": instructions})
    chat: dict[str, Any] = {"model": model, "messages": messages}
    chat.update(_sampling(body))
    chat.update(_tools(body))
    chat.update(_text_format(body.get("text")))
    if body.get("truncation", "disabled") != "disabled":
        raise unsupported("truncation", IGNORED_FIELDS["truncation"])
    if isinstance(body.get("user"), str):
        chat["user"] = body["user"]
    stream, store = body.get("stream", False), body.get("store", True)
    for name, value in (("stream", stream), ("store", store)):
        if not isinstance(value, bool):
            raise invalid(f"'{name}' must be a boolean.", name)
    if stream:
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}  # the final event carries usage
    metadata = body.get("metadata", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise invalid("'metadata' must be an object of string values.", "metadata")
    echo = {name: body.get(name) for name in ("instructions", "max_output_tokens", "temperature", "top_p", "user")}
    echo.update(
        tools=body.get("tools", []),
        tool_choice=body.get("tool_choice", "auto"),
        parallel_tool_calls=body.get("parallel_tool_calls", True),
        metadata=metadata,
        text=body.get("text", {"format": {"type": "text"}}),
        previous_response_id=previous,
        store=store,
    )
    return ResponsesRequest(chat, items, stream, store, previous, echo)


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, low, high in (("temperature", 0.0, 2.0), ("top_p", 0.0, 1.0)):
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise invalid(f"'{name}' must be a number between {low:g} and {high:g}.", name)
            out[name] = value
    if "max_output_tokens" in body:
        limit = body["max_output_tokens"]
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise invalid("'max_output_tokens' must be a positive integer.", "max_output_tokens")
        out["max_tokens"] = limit
    return out


def _tools(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    tools = body.get("tools", [])
    if not isinstance(tools, list):
        raise invalid("'tools' must be a list.", "tools")
    if tools:
        out["tools"] = [_function_tool(tool, i) for i, tool in enumerate(tools)]
    if "tool_choice" in body:
        out["tool_choice"] = _tool_choice(body["tool_choice"])
    if "parallel_tool_calls" in body:
        if not isinstance(body["parallel_tool_calls"], bool):
            raise invalid("'parallel_tool_calls' must be a boolean.", "parallel_tool_calls")
        out["parallel_tool_calls"] = body["parallel_tool_calls"]
    return out


def _function_tool(tool: Any, i: int) -> dict[str, Any]:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise unsupported(f"tools[{i}].type", f"tools of type {kind!r} (only 'function' tools reach a chat upstream)")
    if not isinstance(tool.get("name"), str):
        raise invalid(f"tools[{i}].name must be a string.", f"tools[{i}].name")
    function = {key: tool[key] for key in ("name", "description", "parameters", "strict") if tool.get(key) is not None}
    return {"type": "function", "function": function}


def _tool_choice(choice: Any) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise invalid(
        "'tool_choice' must be 'auto', 'none', 'required' or {'type': 'function', 'name': ...}.", "tool_choice"
    )


def _text_format(text: Any) -> dict[str, Any]:
    if text is None:
        return {}
    if not isinstance(text, dict) or set(text) - {"format"}:
        extra = sorted(set(text) - {"format"}) if isinstance(text, dict) else []
        raise unsupported(f"text.{extra[0]}" if extra else "text", "only text.format is supported")
    fmt = text.get("format", {"type": "text"})
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in _FORMATS:
        raise invalid(f"text.format.type must be one of {list(_FORMATS)}.", "text.format.type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"response_format": {"type": "json_object"}}
    if not isinstance(fmt.get("name"), str) or not isinstance(fmt.get("schema"), dict):
        raise invalid("text.format of type json_schema needs a 'name' and a 'schema' object.", "text.format")
    schema = {key: fmt[key] for key in ("name", "schema", "description", "strict") if fmt.get(key) is not None}
    return {"response_format": {"type": "json_schema", "json_schema": schema}}
