"""Chat-completion stream chunks -> Anthropic Messages stream events, one chunk at a time.

Order: `message_start`, `ping`, then per content block `content_block_start`, its deltas
(`thinking_delta`, `text_delta` or `input_json_delta`) and `content_block_stop`; last
`message_delta` (stop reason and usage) and `message_stop`. Chat streams report input tokens only
at their end, so `message_start` says 0 and `message_delta` carries the real count (the SDK
takes it from there). Tool-use blocks stay open until the end, like the chat stream's calls.
"""

from typing import Any

import orjson

from gateway.protocols.anthropic_request import MessagesRequest
from gateway.protocols.anthropic_response import new_message_id, stop_reason, usage
from gateway.protocols.errors import ProtocolError

Event = dict[str, Any]
_DELTAS = {"thinking": ("thinking_delta", "thinking"), "text": ("text_delta", "text")}


class MessagesStream:
    def __init__(self, request: MessagesRequest, message_id: str | None = None) -> None:
        self.request = request
        self.message_id = message_id or new_message_id()
        self.model = request.chat["model"]
        self._started = False
        self._blocks = 0
        self._open: tuple[str, int] | None = None  # the thinking or text block receiving deltas
        self._calls: dict[int, int] = {}  # chat tool-call index -> its block index
        self._usage: dict[str, Any] | None = None
        self._choice: dict[str, Any] = {}

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        self.model = chunk.get("model") or self.model
        events = self._start()
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                events += self._text_delta("thinking", delta["reasoning_content"])
            if delta.get("content"):
                events += self._text_delta("text", delta["content"])
            for call in delta.get("tool_calls") or []:
                events += self._call_delta(call)
            if choice.get("finish_reason"):
                self._choice = choice
        return events

    def finish(self) -> list[Event]:
        events = self._start() + self._close_open()
        events += [{"type": "content_block_stop", "index": index} for index in sorted(self._calls.values())]
        self._calls = {}
        reason, sequence = stop_reason(self._choice, self.request)
        return [
            *events,
            {
                "type": "message_delta",
                "delta": {"stop_reason": reason, "stop_sequence": sequence},
                "usage": usage(self._usage),
            },
            {"type": "message_stop"},
        ]

    def error(self, error: ProtocolError) -> list[Event]:
        """An error once the stream has begun: Anthropic's `error` event, which the SDK raises."""
        return [error.anthropic_body()]

    def _start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        message = {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return [{"type": "message_start", "message": message}, {"type": "ping"}]

    def _text_delta(self, kind: str, text: str) -> list[Event]:
        events: list[Event] = []
        if self._open is None or self._open[0] != kind:
            events += self._close_open()
            block = (
                {"type": "thinking", "thinking": "", "signature": ""}
                if kind == "thinking"
                else {"type": "text", "text": ""}
            )
            self._open = (kind, self._new_block())
            events.append({"type": "content_block_start", "index": self._open[1], "content_block": block})
        delta_type, key = _DELTAS[kind]
        events.append({"type": "content_block_delta", "index": self._open[1], "delta": {"type": delta_type, key: text}})
        return events

    def _close_open(self) -> list[Event]:
        block, self._open = self._open, None
        return [] if block is None else [{"type": "content_block_stop", "index": block[1]}]

    def _call_delta(self, call: dict[str, Any]) -> list[Event]:
        events = self._close_open()
        position = call.get("index", 0)
        function = call.get("function") or {}
        if position not in self._calls:
            self._calls[position] = self._new_block()
            block = {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{self.message_id}_{position}",
                "name": function.get("name", ""),
                "input": {},
            }
            events.append({"type": "content_block_start", "index": self._calls[position], "content_block": block})
        if function.get("arguments"):
            events.append(
                {
                    "type": "content_block_delta",
                    "index": self._calls[position],
                    "delta": {"type": "input_json_delta", "partial_json": function["arguments"]},
                }
            )
        return events

    def _new_block(self) -> int:
        self._blocks += 1
        return self._blocks - 1


def sse_event(event: Event) -> bytes:
    """One event as Anthropic frames it: a named SSE event whose data repeats the type."""
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
