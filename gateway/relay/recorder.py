"""Rebuild the whole answer from a stream the gateway relays, so it can be cached.

The recorder sees the same bytes the client sees. It yields a completion only when the
stream ended properly: every choice has a finish_reason and `[DONE]` arrived. Anything
else (an error event, a cut, a malformed chunk, an event past the parser's size limit) leaves
it incomplete, and an incomplete answer is never stored.
"""

from typing import Any

import orjson

from gateway.edge.wire import CHAT
from gateway.relay.sse import DONE, SSEParser


class StreamRecorder:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._parser: SSEParser | None = SSEParser()  # let go when broken
        self._choices: dict[int, dict[str, Any]] = {}
        self._meta: dict[str, Any] = {}
        self._usage: dict[str, Any] | None = None
        self.done = False
        self.broken = False

    def feed(self, chunk: bytes) -> None:
        """Record raw stream bytes (the relay, which parses events itself, calls `add` instead)."""
        if self.broken or self._parser is None:
            return
        try:
            for event in self._parser.feed(chunk):
                self.add(DONE if event.data == DONE else orjson.loads(event.data))
        except (orjson.JSONDecodeError, ValueError):  # ValueError covers EventTooLarge
            self._break()

    def add(self, chunk: dict[str, Any] | str) -> None:
        """Record one parsed event: a chunk, or DONE."""
        if self.broken:
            return
        if chunk == DONE:
            self.done = True
            return
        try:
            if not isinstance(chunk, dict):
                raise TypeError("an event that is neither a chunk nor [DONE]")
            self._apply(chunk)
        except (TypeError, KeyError, AttributeError, ValueError):
            self._break()

    def _break(self) -> None:
        # The parser let its buffer go (EventTooLarge); so do we.
        self.broken = True
        self._parser = None
        self._choices.clear()

    def _apply(self, chunk: dict[str, Any]) -> None:
        if "error" in chunk:
            self.broken = True
            return
        if not self._meta:
            self._meta = {k: chunk[k] for k in ("id", "created", "model", "system_fingerprint") if k in chunk}
        if chunk.get("usage"):
            self._usage = _typed(chunk["usage"], dict)
        for piece in chunk.get("choices") or ():
            index = _index(piece.get("index", 0))
            choice = self._choices.setdefault(
                index, {"text": [], "reasoning": [], "role": None, "tool_calls": {}, "finish_reason": None}
            )
            if self.kind == CHAT:
                delta = piece.get("delta") or {}
                choice["role"] = choice["role"] or _typed(delta.get("role"), str)
                if delta.get("content"):
                    choice["text"].append(_typed(delta["content"], str))
                if delta.get("reasoning_content"):  # a reasoning model's thinking (vLLM, SGLang): kept for replays
                    choice["reasoning"].append(_typed(delta["reasoning_content"], str))
                for call in delta.get("tool_calls") or ():
                    _merge_tool_call(choice["tool_calls"], call)
            elif piece.get("text"):
                choice["text"].append(_typed(piece["text"], str))
            if piece.get("finish_reason"):
                choice["finish_reason"] = _typed(piece["finish_reason"], str)

    @property
    def complete(self) -> bool:
        return (
            self.done
            and not self.broken
            and bool(self._choices)
            and all(c["finish_reason"] for c in self._choices.values())
        )

    def completion(self) -> dict[str, Any] | None:
        """The non-streamed equivalent of what was streamed, or None if it did not complete."""
        if not self.complete:
            return None
        choices = []
        for index in sorted(self._choices):
            c = self._choices[index]
            text = "".join(c["text"])
            if self.kind == CHAT:
                message: dict[str, Any] = {
                    "role": c["role"] or "assistant",
                    "content": text if text or not c["tool_calls"] else None,
                }
                if c["reasoning"]:
                    message["reasoning_content"] = "".join(c["reasoning"])
                if c["tool_calls"]:
                    message["tool_calls"] = [c["tool_calls"][i] for i in sorted(c["tool_calls"])]
                choices.append({"index": index, "message": message, "finish_reason": c["finish_reason"]})
            else:
                choices.append({"index": index, "text": text, "logprobs": None, "finish_reason": c["finish_reason"]})
        out = {
            **self._meta,
            "object": "chat.completion" if self.kind == CHAT else "text_completion",
            "choices": choices,
        }
        if self._usage:
            out["usage"] = self._usage
        return out


def _merge_tool_call(calls: dict[int, dict[str, Any]], delta: dict[str, Any]) -> None:
    index = _index(delta.get("index", 0))
    call = calls.setdefault(index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
    if delta.get("id"):
        call["id"] = _typed(delta["id"], str)
    function = delta.get("function") or {}
    if function.get("name"):
        call["function"]["name"] += _typed(function["name"], str)
    if function.get("arguments"):
        call["function"]["arguments"] += _typed(function["arguments"], str)


# A chunk of the wrong shape makes the answer malformed (ValueError: never stored), rather than
# failing later while the completion is rebuilt.
_MAX_CHOICES = 128  # the most `n` a request may ask for (gateway/edge/wire.py)


def _typed(value: Any, kind: type) -> Any:
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _index(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MAX_CHOICES:
        raise ValueError(f"choice index {value!r} is not an integer in 0..{_MAX_CHOICES - 1}")
    return value
