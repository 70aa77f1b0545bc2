"""Responses API input items -> chat-completions messages.

An input item is a message (`input_text` / `output_text` content parts), a `function_call` the
model made, or the `function_call_output` the client sends back. Items that earlier turns produced
come back the same way (`previous_response_id`), so one function reads both.
"""

from typing import Any

from gateway.protocols.errors import invalid, unsupported

_ROLES = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    # Chat-only upstreams (llama.cpp, the bundled backend's template) know no "developer" role;
    # OpenAI's own models treat developer and system messages alike.
    "developer": "system",
}
_TEXT_PARTS = {"input_text": "text", "output_text": "text", "refusal": "refusal"}


def normalize_input(value: Any) -> list[dict[str, Any]]:
    """`input` as a list of items: a string is one user message."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    if not isinstance(value, list) or not value:
        raise invalid("'input' must be a string or a non-empty list of input items.", "input")
    items = []
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid(f"input[{i}] must be an object.", f"input[{i}]")
        # The SDK and the API accept a message without its "type" (EasyInputMessage).
        items.append({"type": "message", **item} if "type" not in item and "role" in item else item)
    return items


def items_to_messages(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        kind = item.get("type")
        if kind == "message":
            messages.append(_message(item, f"input[{i}]"))
        elif kind == "function_call":
            _add_tool_call(messages, item, f"input[{i}]")
        elif kind == "function_call_output":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": _string(item, "call_id", f"input[{i}]"),
                    "content": _output_text(item.get("output"), f"input[{i}].output"),
                }
            )
        elif kind == "reasoning":
            # A chat upstream takes no reasoning trace back, so earlier reasoning cannot change its answer.
            continue
        else:
            raise unsupported(f"input[{i}].type", f"input items of type {kind!r} cannot be sent to a chat upstream")
    return messages


def _message(item: dict[str, Any], where: str) -> dict[str, Any]:
    role = _ROLES.get(item.get("role"))  # type: ignore[arg-type]
    if role is None:
        raise invalid(f"{where}.role must be one of {sorted(_ROLES)}.", f"{where}.role")
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise invalid(f"{where}.content must be a string or a list of content parts.", f"{where}.content")
    texts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        key = _TEXT_PARTS.get(kind)  # type: ignore[arg-type]
        if key is None:
            raise unsupported(f"{where}.content[{j}].type", f"content parts of type {kind!r} (text only)")
        texts.append(_string(part, key, f"{where}.content[{j}]"))
    # Consecutive text parts read as one text; a newline keeps their words apart.
    return {"role": role, "content": "\n".join(texts)}


def _add_tool_call(messages: list[dict[str, Any]], item: dict[str, Any], where: str) -> None:
    call = {
        "id": _string(item, "call_id", where),
        "type": "function",
        "function": {"name": _string(item, "name", where), "arguments": _string(item, "arguments", where)},
    }
    last = messages[-1] if messages else None
    # Calls of one turn (and the text before them) belong to one assistant message in chat completions.
    if last is not None and last["role"] == "assistant":
        last.setdefault("tool_calls", []).append(call)
        last.setdefault("content", None)
    else:
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})


def _output_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) and p.get("type") == "input_text" for p in value):
        return "\n".join(_string(p, "text", where) for p in value)
    raise invalid(f"{where} must be a string or a list of input_text parts.", where)


def _string(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str):
        raise invalid(f"{where}.{key} must be a string.", f"{where}.{key}")
    return value
