"""An upstream that serves `/v1/responses` itself (`responses: native`): the Responses API on that hop.

The pipeline keeps one form for every answer (the chat completion it checks, caches and replays), so
for such an upstream the request body the pipeline would send (IC-Cache's examples and routed model
included) is written as a Responses request, and the upstream's Responses answer, whole or streamed,
is read back into a chat completion or chat chunks as it arrives. The gateway keeps the stored
responses itself: the upstream is sent the whole conversation and `store: false`.
"""

from typing import Any

import orjson

from gateway.protocols.chat_events import Event
from gateway.relay.sse import DONE_BYTES, SSEParser, encode

PATH = "/responses"
# Why a response is incomplete -> the chat finish reason.
_FINISH = {"max_output_tokens": "length", "content_filter": "content_filter"}


def responses_body(chat: dict[str, Any]) -> dict[str, Any]:
    """The chat body the pipeline would send, as a Responses API request."""
    body: dict[str, Any] = {"model": chat["model"], "input": _items(chat["messages"]), "store": False}
    for name in ("temperature", "top_p", "parallel_tool_calls", "user", "stream"):
        if name in chat:
            body[name] = chat[name]
    if "max_tokens" in chat or "max_completion_tokens" in chat:
        body["max_output_tokens"] = chat.get("max_tokens", chat.get("max_completion_tokens"))
    if chat.get("tools"):
        body["tools"] = [{"type": "function", **tool["function"]} for tool in chat["tools"]]
    choice = chat.get("tool_choice")
    if choice is not None:
        body["tool_choice"] = choice if isinstance(choice, str) else {"type": "function", **choice["function"]}
    fmt = chat.get("response_format")
    if fmt is not None:
        schema = fmt.get("json_schema") or {}
        body["text"] = {"format": {"type": fmt["type"], **schema}}
    return body


def _items(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in messages:
        role, content = message["role"], message.get("content")
        if role == "tool":
            items.append({"type": "function_call_output", "call_id": message["tool_call_id"], "output": content})
            continue
        if content:
            text = content if isinstance(content, str) else "\n".join(p.get("text", "") for p in content)
            items.append({"role": role, "content": text})
        for call in message.get("tool_calls") or ():
            function = call["function"]
            name, arguments = function["name"], function["arguments"]
            items.append({"type": "function_call", "call_id": call["id"], "name": name, "arguments": arguments})
    return items


def chat_from_response(response: dict[str, Any]) -> dict[str, Any]:
    """A Responses object -> the chat completion it answers (what the pipeline checks and caches)."""
    message: dict[str, Any] = {"role": "assistant", "content": None}
    texts, reasoning, calls = [], [], []
    for item in response.get("output") or ():
        if item.get("type") == "message":
            texts += [part.get("text", "") for part in item.get("content") or () if part.get("type") == "output_text"]
        elif item.get("type") == "reasoning":
            reasoning += [part.get("text", "") for part in item.get("content") or ()]
        elif item.get("type") == "function_call":
            function = {"name": item["name"], "arguments": item.get("arguments", "")}
            calls.append({"id": item["call_id"], "type": "function", "function": function})
    if texts:
        message["content"] = "".join(texts)
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = calls
    reason = (response.get("incomplete_details") or {}).get("reason")
    finish = _FINISH.get(reason or "", "tool_calls" if calls else "stop")
    completion = {
        "id": response.get("id", ""),
        "object": "chat.completion",
        "created": response.get("created_at", 0),
        "model": response.get("model", ""),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    usage = _chat_usage(response.get("usage"))
    return {**completion, "usage": usage} if usage else completion


def _chat_usage(usage: dict[str, Any] | None) -> dict[str, int] | None:
    if not usage:
        return None
    prompt, completion = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


class NativeResponsesCall:
    """One call to a `responses: native` upstream (gateway/edge/wire_adapter.py's NativeCall): where, with
    what body, and its answer read back as the pipeline's chat completion or chat stream."""

    path = PATH

    def __init__(self, chat: dict[str, Any]) -> None:
        self.body = responses_body(chat)
        self._ended = False  # the upstream said the response finished (completed or incomplete)
        self._parser = SSEParser()
        self._head: dict[str, Any] = {"object": "chat.completion.chunk", "choices": []}
        self._calls: dict[int, int] = {}  # output index -> chat tool-call index

    def whole(self, body: bytes) -> bytes:
        """A whole Responses object -> the chat completion's JSON (left alone when it is not JSON: the
        pipeline refuses it as malformed)."""
        try:
            return orjson.dumps(chat_from_response(orjson.loads(body)))
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
            return body

    def feed(self, piece: bytes) -> bytes:
        out = []
        for event in self._parser.feed(piece):
            out += [encode(chunk) for chunk in self._chunks(orjson.loads(event.data))]
        return b"".join(out)

    def _chunks(self, event: Event) -> list[dict[str, Any]]:
        kind = event.get("type")
        if kind == "response.created":
            response = event["response"]
            self._head.update(id=response.get("id", ""), created=response.get("created_at", 0))
            self._head["model"] = response.get("model", "")
            return [self._delta({"role": "assistant", "content": ""})]
        if kind == "response.output_text.delta":
            return [self._delta({"content": event["delta"]})]
        if kind == "response.reasoning_text.delta":
            return [self._delta({"reasoning_content": event["delta"]})]
        if kind == "response.output_item.added" and event["item"].get("type") == "function_call":
            item, index = event["item"], self._calls.setdefault(event["output_index"], len(self._calls))
            call = {"index": index, "id": item["call_id"], "type": "function"}
            return [self._delta({"tool_calls": [{**call, "function": {"name": item["name"], "arguments": ""}}]})]
        if kind == "response.function_call_arguments.delta":
            index = self._calls[event["output_index"]]
            return [self._delta({"tool_calls": [{"index": index, "function": {"arguments": event["delta"]}}]})]
        if kind in ("response.completed", "response.incomplete"):
            self._ended = True
            finish = chat_from_response(event["response"])
            usage = finish.get("usage")
            reason = finish["choices"][0]["finish_reason"]
            last = {**self._head, "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]}
            return [last, {**self._head, "usage": usage}] if usage else [last]
        if kind in ("error", "response.failed"):
            error = event.get("error") or (event.get("response") or {}).get("error") or event
            message = error.get("message", "upstream error")
            return [{"error": {"message": message, "type": "server_error", "param": None, "code": error.get("code")}}]
        return []

    def finish(self) -> bytes:
        """The chat stream's `[DONE]`, only when the upstream finished its response: a stream that stops
        before never reads as a finished answer (not stored, no closing events)."""
        return DONE_BYTES if self._ended else b""

    def _delta(self, delta: dict[str, Any]) -> dict[str, Any]:
        return {**self._head, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
