"""A chat completion -> an Anthropic `message`; token counting for `/v1/messages/count_tokens`.

Chat's finish reasons map onto Anthropic's stop reasons. "stop" is `stop_sequence` when the
upstream says which stop string matched (vLLM's `stop_reason`, SGLang's `matched_stop`) and it is
one of the request's, else `end_turn`: a plain OpenAI upstream does not say, so a stop sequence
reads as `end_turn` there. `reasoning_content` becomes a `thinking` block (with an empty
signature: no upstream signs it, and a chat upstream ignores thinking sent back).
"""

import json
import secrets
from collections.abc import Callable
from typing import Any

from gateway.protocols.anthropic_request import MessagesRequest, count_tokens_body

_STOP_REASONS = {
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def new_message_id() -> str:
    return f"msg_{secrets.token_hex(12)}"


def stop_reason(choice: dict[str, Any], request: MessagesRequest) -> tuple[str, str | None]:
    """(stop_reason, stop_sequence) for a chat choice's finish."""
    finish = choice.get("finish_reason") or "stop"
    if finish in _STOP_REASONS:
        return _STOP_REASONS[finish], None
    matched = choice.get("stop_reason", choice.get("matched_stop"))
    if isinstance(matched, str) and matched in request.stop_sequences:
        return "stop_sequence", matched
    return "end_turn", None


def tool_input(arguments: str) -> Any:
    """A tool call's arguments as the object Anthropic sends; text that is not JSON stays visible."""
    try:
        return json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return {"arguments": arguments}


def usage(chat_usage: dict[str, Any] | None) -> dict[str, int]:
    chat_usage = chat_usage or {}
    return {
        "input_tokens": int(chat_usage.get("prompt_tokens", 0)),
        "output_tokens": int(chat_usage.get("completion_tokens", 0)),
    }


def message_from_chat(
    completion: dict[str, Any], request: MessagesRequest, message_id: str | None = None
) -> dict[str, Any]:
    choice = completion["choices"][0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("reasoning_content"):
        content.append({"type": "thinking", "thinking": message["reasoning_content"], "signature": ""})
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call["function"]
        content.append(
            {
                "type": "tool_use",
                "id": call["id"],
                "name": function["name"],
                "input": tool_input(function.get("arguments", "")),
            }
        )
    reason, sequence = stop_reason(choice, request)
    return {
        "id": message_id or new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": completion.get("model") or request.chat["model"],
        "content": content,
        "stop_reason": reason,
        "stop_sequence": sequence,
        "usage": usage(completion.get("usage")),
    }


def count_tokens(body: Any, counter: Callable[[dict[str, Any]], int]) -> dict[str, int]:
    """`counter` counts the prompt tokens of a chat body with the served model's tokenizer and template."""
    return {"input_tokens": counter(count_tokens_body(body))}
