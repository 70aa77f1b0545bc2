"""A chat completion -> a Responses API `response` object.

The answer's items come in the order the model produced them: its reasoning (when the upstream
returned `reasoning_content`), then its text, then its function calls. The SDK derives
`output_text` from the message items itself, so the object does not carry it.
"""

import secrets
import time
from typing import Any

from gateway.protocols.responses_request import ResponsesRequest

# Why a chat answer stopped -> why the response is incomplete (None: it completed).
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def reasoning_item(text: str, item_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "reasoning",
        "id": item_id or new_id("rs"),
        "summary": [],
        "content": [{"type": "reasoning_text", "text": text}],
        "status": "completed",
    }


def output_text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(text: str, item_id: str | None = None, status: str = "completed") -> dict[str, Any]:
    content = [output_text_part(text)] if status == "completed" else []
    return {
        "type": "message",
        "id": item_id or new_id("msg"),
        "status": status,
        "role": "assistant",
        "content": content,
    }


def function_call_item(
    call_id: str, name: str, arguments: str, item_id: str | None = None, status: str = "completed"
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id or new_id("fc"),
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def usage_from_chat(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    if not usage:
        return None
    prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": int(usage.get("total_tokens", prompt + completion)),
    }


def response_object(
    request: ResponsesRequest,
    response_id: str,
    created_at: int,
    model: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    finish_reason: str | None,
) -> dict[str, Any]:
    """The envelope, with status from the chat finish reason (None: still in progress)."""
    incomplete = _INCOMPLETE.get(finish_reason or "")
    status = "in_progress" if finish_reason is None else "incomplete" if incomplete else "completed"
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "model": model,
        "output": output,
        "usage": usage,
        **request.echo,
    }


def response_from_chat(
    completion: dict[str, Any], request: ResponsesRequest, response_id: str | None = None
) -> dict[str, Any]:
    choice = completion["choices"][0]
    message = choice.get("message") or {}
    output = []
    if message.get("reasoning_content"):
        output.append(reasoning_item(message["reasoning_content"]))
    if message.get("content"):
        output.append(message_item(message["content"]))
    for call in message.get("tool_calls") or []:
        function = call["function"]
        output.append(function_call_item(call["id"], function["name"], function.get("arguments", "")))
    created = int(completion.get("created") or time.time())
    return response_object(
        request,
        response_id or new_id("resp"),
        created,
        completion.get("model", ""),
        output,
        usage_from_chat(completion.get("usage")),
        choice.get("finish_reason") or "stop",
    )
