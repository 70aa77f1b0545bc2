"""Chat-completion stream chunks -> Responses API stream events, one chunk at a time.

The events follow the order the openai SDK's stream accumulator checks: `response.created` and
`response.in_progress`, then per output item `output_item.added`, its content part, deltas, the
part's and the item's `done`, and last `response.completed` (or `response.incomplete`) holding
the whole response with usage. Every event carries a rising `sequence_number`. A reasoning
delta (`reasoning_content`) opens a `reasoning` item, so a replayed hit keeps its reasoning.
"""

import time
from typing import Any

import orjson

from gateway.protocols.errors import ProtocolError
from gateway.protocols.responses_output import (
    function_call_item,
    message_item,
    new_id,
    output_text_part,
    reasoning_item,
    response_object,
    usage_from_chat,
)
from gateway.protocols.responses_request import ResponsesRequest

Event = dict[str, Any]


class ResponsesStream:
    def __init__(self, request: ResponsesRequest, response_id: str | None = None) -> None:
        self.request = request
        self.response_id = response_id or new_id("resp")
        self.created_at = int(time.time())
        self.model = request.chat["model"]
        self._sequence = 0
        self._started = False
        self._open: dict[str, Any] | None = None  # the reasoning or message item receiving deltas
        self._calls: dict[int, dict[str, Any]] = {}  # chat tool-call index -> its function_call item
        self._output: dict[int, dict[str, Any]] = {}  # output index -> finished item
        self._next_index = 0
        self._usage: dict[str, Any] | None = None
        self._finish_reason: str | None = None

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        events = self._start()
        self.model = chunk.get("model") or self.model
        if chunk.get("usage"):
            self._usage = usage_from_chat(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("reasoning_content"):
                events += self._text_delta("reasoning", delta["reasoning_content"])
            if delta.get("content"):
                events += self._text_delta("message", delta["content"])
            for call in delta.get("tool_calls") or []:
                events += self._call_delta(call)
            self._finish_reason = choice.get("finish_reason") or self._finish_reason
        return events

    def finish(self) -> list[Event]:
        """The closing events, once the chat stream has ended (with or without a finish reason)."""
        events = self._start() + self._close_open()
        for index in sorted(self._calls):
            item = self._calls[index]
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=item["output_index"],
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
            events += self._item_done(
                item["output_index"], function_call_item(item["call_id"], item["name"], item["arguments"], item["id"])
            )
        self._calls = {}
        finish = self._finish_reason or "stop"
        response = self._response(finish)
        kind = "response.completed" if response["status"] == "completed" else "response.incomplete"
        return [*events, self._event(kind, response=response)]

    def error(self, error: ProtocolError) -> list[Event]:
        """An error once the stream has begun (the SDK reads it as a ResponseErrorEvent); it ends the stream."""
        return [self._event("error", code=error.code, message=error.message, param=error.param)]

    def _start(self) -> list[Event]:
        if self._started:
            return []
        self._started = True
        response = self._response(None)
        return [
            self._event("response.created", response=response),
            self._event("response.in_progress", response=response),
        ]

    def _text_delta(self, kind: str, text: str) -> list[Event]:
        events: list[Event] = []
        if self._open is None or self._open["kind"] != kind:
            events += self._close_open()
            events += self._open_item(kind)
        item = self._open
        assert item is not None
        item["text"] += text
        name = "response.output_text.delta" if kind == "message" else "response.reasoning_text.delta"
        extra: dict[str, Any] = {"logprobs": []} if kind == "message" else {}
        events.append(
            self._event(
                name, item_id=item["id"], output_index=item["output_index"], content_index=0, delta=text, **extra
            )
        )
        return events

    def _open_item(self, kind: str) -> list[Event]:
        index, self._next_index = self._next_index, self._next_index + 1
        if kind == "message":
            item, part = message_item("", status="in_progress"), output_text_part("")
        else:
            item, part = {**reasoning_item(""), "content": [], "status": "in_progress"}, _reasoning_part("")
        self._open = {"kind": kind, "id": item["id"], "output_index": index, "text": ""}
        return [
            self._event("response.output_item.added", output_index=index, item=item),
            self._event(
                "response.content_part.added", item_id=item["id"], output_index=index, content_index=0, part=part
            ),
        ]

    def _close_open(self) -> list[Event]:
        item, self._open = self._open, None
        if item is None:
            return []
        text, index, item_id = item["text"], item["output_index"], item["id"]
        if item["kind"] == "message":
            part, done = output_text_part(text), message_item(text, item_id)
            text_done = self._event(
                "response.output_text.done",
                item_id=item_id,
                output_index=index,
                content_index=0,
                text=text,
                logprobs=[],
            )
        else:
            part, done = _reasoning_part(text), reasoning_item(text, item_id)
            text_done = self._event(
                "response.reasoning_text.done", item_id=item_id, output_index=index, content_index=0, text=text
            )
        part_done = self._event(
            "response.content_part.done", item_id=item_id, output_index=index, content_index=0, part=part
        )
        return [text_done, part_done, *self._item_done(index, done)]

    def _call_delta(self, call: dict[str, Any]) -> list[Event]:
        events = self._close_open()  # text never follows a function call inside one chat choice
        position = call.get("index", 0)
        function = call.get("function") or {}
        item = self._calls.get(position)
        if item is None:
            index, self._next_index = self._next_index, self._next_index + 1
            added = function_call_item(
                call.get("id") or new_id("call"), function.get("name", ""), "", status="in_progress"
            )
            item = self._calls[position] = {
                "output_index": index,
                "id": added["id"],
                "call_id": added["call_id"],
                "name": added["name"],
                "arguments": "",
            }
            events.append(self._event("response.output_item.added", output_index=index, item=added))
        if function.get("arguments"):
            item["arguments"] += function["arguments"]
            events.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=item["output_index"],
                    delta=function["arguments"],
                )
            )
        return events

    def _item_done(self, index: int, item: dict[str, Any]) -> list[Event]:
        self._output[index] = item
        return [self._event("response.output_item.done", output_index=index, item=item)]

    def _response(self, finish_reason: str | None) -> dict[str, Any]:
        output = [self._output[i] for i in sorted(self._output)] if finish_reason else []
        usage = self._usage if finish_reason else None
        return response_object(
            self.request, self.response_id, self.created_at, self.model, output, usage, finish_reason
        )

    def _event(self, kind: str, **fields: Any) -> Event:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event


def _reasoning_part(text: str) -> dict[str, Any]:
    return {"type": "reasoning_text", "text": text}


def sse_event(event: Event) -> bytes:
    """One event as the Responses API frames it on the wire: a named SSE event."""
    return b"event: " + event["type"].encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
