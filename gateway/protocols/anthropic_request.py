"""`POST /v1/messages` (Anthropic Messages API) body -> the canonical chat-completions body.

Every field in ANSWER_CHANGING_FIELDS lands in the chat body, so the cache key sees it. `top_k`,
which chat completions lacks, travels as the `top_k` extension that vLLM, SGLang, llama.cpp's
server and the bundled backend read (a hosted OpenAI upstream refuses it with a 400, relayed).
IGNORED_FIELDS are accepted and leave the answer alone; anything else is a 400 naming it.
"""

import json
from dataclasses import dataclass
from typing import Any

from gateway.protocols.errors import check_fields, invalid, require_object, unsupported

ANSWER_CHANGING_FIELDS = (
    "model",
    "system",
    "messages",
    "max_tokens",
    "stop_sequences",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "output_config",
)
IGNORED_FIELDS = {
    "stream": "transport only: the streamed and the whole answer are the same answer",
    "cache_control": "Anthropic's prompt-caching marker: where the provider may cache a prefix, not what it answers",
    "metadata": "metadata.user_id is end-user attribution, forwarded as chat's 'user'",
    "thinking": "only {'type': 'disabled'} is accepted: a chat upstream takes no thinking budget",
}
# count_tokens takes the prompt's fields only.
COUNT_TOKENS_FIELDS = ("model", "system", "messages", "tools", "tool_choice", "thinking")


@dataclass
class MessagesRequest:
    chat: dict[str, Any]  # the canonical chat-completions body
    stream: bool
    stop_sequences: list[str]


def parse_messages_request(body: Any) -> MessagesRequest:
    body = {k: v for k, v in require_object(body).items() if v is not None}  # null reads as not given
    check_fields(body, set(ANSWER_CHANGING_FIELDS) | set(IGNORED_FIELDS))
    chat = _prompt(body)
    limit = body.get("max_tokens")
    if limit is None:
        raise invalid("max_tokens: Field required", "max_tokens")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise invalid("max_tokens: must be a positive integer", "max_tokens")
    chat["max_tokens"] = limit
    stops = body.get("stop_sequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise invalid("stop_sequences: must be a list of non-empty strings", "stop_sequences")
    if stops:
        chat["stop"] = stops
    for name, high in (("temperature", 1.0), ("top_p", 1.0)):
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
                raise invalid(f"{name}: must be a number between 0 and {high:g}", name)
            chat[name] = value
    top_k = body.get("top_k")
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
            raise invalid("top_k: must be a non-negative integer", "top_k")
        chat["top_k"] = top_k
    chat.update(_output_config(body.get("output_config")))
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or set(metadata) - {"user_id"}:
        raise invalid("metadata: only user_id is accepted", "metadata")
    if isinstance(metadata.get("user_id"), str):
        chat["user"] = metadata["user_id"]
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise invalid("stream: must be a boolean", "stream")
    if stream:
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}
    return MessagesRequest(chat, stream, stops)


def count_tokens_body(body: Any) -> dict[str, Any]:
    """The chat body whose prompt `POST /v1/messages/count_tokens` counts."""
    body = {k: v for k, v in require_object(body).items() if v is not None}
    check_fields(body, set(COUNT_TOKENS_FIELDS))
    return _prompt(body)


def _prompt(body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model: Field required", "model")
    thinking = body.get("thinking")
    if thinking is not None and thinking != {"type": "disabled"}:
        raise unsupported("thinking", IGNORED_FIELDS["thinking"])
    messages = _system(body.get("system"))
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise invalid("messages: must be a non-empty list", "messages")
    for i, message in enumerate(raw):
        messages += _message(message, f"messages.{i}")
    chat: dict[str, Any] = {"model": model, "messages": messages}
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise invalid("tools: must be a list", "tools")
    if tools:
        chat["tools"] = [_tool(tool, f"tools.{i}") for i, tool in enumerate(tools)]
    if body.get("tool_choice") is not None:
        chat.update(_tool_choice(body["tool_choice"]))
    return chat


def _system(system: Any) -> list[dict[str, Any]]:
    if system is None or system == "" or system == []:
        return []
    if isinstance(system, str):
        return [{"role": "system", "content": system}]
    if isinstance(system, list) and all(isinstance(b, dict) and b.get("type") == "text" for b in system):
        return [{"role": "system", "content": "\n".join(_text(b, "system") for b in system)}]
    raise invalid("system: must be a string or a list of text blocks", "system")


def _message(message: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
        raise invalid(f"{where}.role: must be 'user' or 'assistant'", f"{where}.role")
    role, content = message["role"], message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise invalid(f"{where}.content: must be a string or a list of content blocks", f"{where}.content")
    texts, calls, results = [], [], []
    for j, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        at = f"{where}.content.{j}"
        if kind == "text":
            texts.append(_text(block, at))
        elif kind == "tool_use" and role == "assistant":
            calls.append(
                {
                    "id": _string(block, "id", at),
                    "type": "function",
                    "function": {"name": _string(block, "name", at), "arguments": json.dumps(block.get("input", {}))},
                }
            )
        elif kind == "tool_result" and role == "user":
            results.append(
                {"role": "tool", "tool_call_id": _string(block, "tool_use_id", at), "content": _tool_result(block, at)}
            )
        elif kind in ("thinking", "redacted_thinking") and role == "assistant":
            continue  # a chat upstream takes no thinking back, so it cannot change the answer
        else:
            raise unsupported(f"{at}.type", f"{kind!r} blocks in {role} messages")
    if role == "assistant":
        return [
            {
                "role": "assistant",
                "content": "\n".join(texts) if texts else None,
                **({"tool_calls": calls} if calls else {}),
            }
        ]
    # Chat completions wants each tool's answer right after the call, before any new user text.
    return [*results, *([{"role": "user", "content": "\n".join(texts)}] if texts or not results else [])]


def _tool_result(block: dict[str, Any], where: str) -> str:
    content = block.get("content", "")
    if isinstance(content, list):
        if not all(isinstance(b, dict) and b.get("type") == "text" for b in content):
            raise unsupported(f"{where}.content", "tool results other than text")
        content = "\n".join(_text(b, where) for b in content)
    if not isinstance(content, str):
        raise invalid(f"{where}.content: must be a string or text blocks", f"{where}.content")
    # Chat's tool message has no error flag; the model must still learn the call failed.
    return f"Error: {content}" if block.get("is_error") else content


def _tool(tool: Any, where: str) -> dict[str, Any]:
    if not isinstance(tool, dict) or tool.get("type", "custom") != "custom":
        kind = tool.get("type") if isinstance(tool, dict) else None
        raise unsupported(f"{where}.type", f"server tools such as {kind!r} (only client tools reach a chat upstream)")
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise invalid(f"{where}.input_schema: Field required", f"{where}.input_schema")
    function = {"name": _string(tool, "name", where), "parameters": schema}
    if isinstance(tool.get("description"), str):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _tool_choice(choice: Any) -> dict[str, Any]:
    kind = choice.get("type") if isinstance(choice, dict) else None
    mapped: Any = {"auto": "auto", "any": "required", "none": "none"}.get(kind)  # type: ignore[arg-type]
    if kind == "tool":
        mapped = {"type": "function", "function": {"name": _string(choice, "name", "tool_choice")}}
    if mapped is None:
        raise invalid("tool_choice: type must be 'auto', 'any', 'tool' or 'none'", "tool_choice")
    out: dict[str, Any] = {"tool_choice": mapped}
    if choice.get("disable_parallel_tool_use"):
        out["parallel_tool_calls"] = False
    return out


def _output_config(config: Any) -> dict[str, Any]:
    """Structured output (`output_config.format`) -> chat's response_format; an effort level has no chat
    equivalent, so one that is set is refused."""
    if config is None:
        return {}
    if not isinstance(config, dict) or set(config) - {"format", "effort"}:
        raise invalid("output_config: only 'format' and 'effort' are accepted", "output_config")
    if config.get("effort") is not None:
        raise unsupported("output_config.effort", "a chat upstream takes no effort level")
    fmt = config.get("format")
    if fmt is None:
        return {}
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict):
        raise invalid("output_config.format: must be {'type': 'json_schema', 'schema': {...}}", "output_config.format")
    return {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": fmt["schema"], "strict": True},
        }
    }


def _text(block: dict[str, Any], where: str) -> str:
    return _string(block, "text", where)


def _string(block: dict[str, Any], key: str, where: str) -> str:
    value = block.get(key)
    if not isinstance(value, str):
        raise invalid(f"{where}.{key}: must be a string", f"{where}.{key}")
    return value
