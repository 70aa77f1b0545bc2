"""Chat messages as OpenAI sends them -> role, text content, and an assistant's earlier tool calls."""

from typing import Any

from gpu_backend.server.errors import OpenAIError


def parse_message(message: Any, where: str) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise OpenAIError(400, f"'{where}' must be an object", where)
    role = message.get("role")
    if role not in ("system", "developer", "user", "assistant", "tool"):
        raise OpenAIError(
            400, f"'{where}.role' must be one of system, developer, user, assistant, tool", f"{where}.role"
        )
    content = message.get("content")
    if content is None and role == "assistant":
        content = ""
    if isinstance(content, list):
        # Content parts: only text parts carry anything this text-only model can read.
        if not all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str) for p in content):
            raise OpenAIError(400, f"'{where}.content' parts must all be text parts", f"{where}.content")
        content = "".join(p["text"] for p in content)
    if not isinstance(content, str):
        raise OpenAIError(400, f"'{where}.content' must be a string or an array of text parts", f"{where}.content")
    parsed: dict[str, Any] = {"role": "system" if role == "developer" else role, "content": content}
    if role == "assistant" and message.get("tool_calls"):
        parsed["tool_calls"] = _parse_tool_calls(message["tool_calls"], f"{where}.tool_calls")
    if role == "tool" and message.get("tool_call_id") is not None:
        if not isinstance(message["tool_call_id"], str):
            raise OpenAIError(400, f"'{where}.tool_call_id' must be a string", f"{where}.tool_call_id")
        parsed["tool_call_id"] = message["tool_call_id"]
    return parsed


def _parse_tool_calls(calls: Any, where: str) -> list[dict[str, Any]]:
    """An assistant's earlier calls, as OpenAI sends them (arguments as JSON text)."""
    if not isinstance(calls, list):
        raise OpenAIError(400, f"'{where}' must be an array", where)
    parsed = []
    for i, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not (
            isinstance(function, dict)
            and isinstance(call.get("id"), str)
            and call.get("type") == "function"
            and isinstance(function.get("name"), str)
            and isinstance(function.get("arguments"), str)
        ):
            raise OpenAIError(
                400,
                f'\'{where}[{i}]\' must be {{"id", "type": "function", "function": '
                f'{{"name", "arguments"}}}} with strings',
                f"{where}[{i}]",
            )
        parsed.append(
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": function["name"], "arguments": function["arguments"]},
            }
        )
    return parsed
