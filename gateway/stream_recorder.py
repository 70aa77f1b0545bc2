"""Rebuild the whole answer from a stream the gateway relays, so it can be cached.

The recorder sees the same bytes the client sees. It yields a completion only when the
stream ended properly: every choice has a finish_reason and `[DONE]` arrived. Anything
else (an error event, a cut, a malformed chunk) leaves it incomplete, and an incomplete
answer is never stored.
"""

from typing import Any

import orjson

from gateway.sse import DONE, SSEParser
from gateway.wire import CHAT


class StreamRecorder:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._parser = SSEParser()
        self._choices: dict[int, dict[str, Any]] = {}
        self._meta: dict[str, Any] = {}
        self._usage: dict[str, Any] | None = None
        self.done = False
        self.broken = False

    def feed(self, chunk: bytes) -> None:
        if self.broken:
            return
        for event in self._parser.feed(chunk):
            if event.data == DONE:
                self.done = True
                continue
            try:
                self._apply(orjson.loads(event.data))
            except (orjson.JSONDecodeError, TypeError, KeyError, AttributeError, ValueError):
                self.broken = True
                return

    def _apply(self, chunk: dict[str, Any]) -> None:
        if "error" in chunk:
            self.broken = True
            return
        if not self._meta:
            self._meta = {k: chunk[k] for k in ("id", "created", "model", "system_fingerprint") if k in chunk}
        if chunk.get("usage"):
            self._usage = chunk["usage"]
        for piece in chunk.get("choices") or ():
            index = int(piece.get("index", 0))
            choice = self._choices.setdefault(index, {"text": [], "role": None, "tool_calls": {}, "finish_reason": None})
            if self.kind == CHAT:
                delta = piece.get("delta") or {}
                choice["role"] = choice["role"] or delta.get("role")
                if delta.get("content"):
                    choice["text"].append(delta["content"])
                for call in delta.get("tool_calls") or ():
                    _merge_tool_call(choice["tool_calls"], call)
            elif piece.get("text"):
                choice["text"].append(piece["text"])
            if piece.get("finish_reason"):
                choice["finish_reason"] = piece["finish_reason"]

    @property
    def complete(self) -> bool:
        return (self.done and not self.broken and bool(self._choices)
                and all(c["finish_reason"] for c in self._choices.values()))

    def completion(self) -> dict[str, Any] | None:
        """The non-streamed equivalent of what was streamed, or None if it did not complete."""
        if not self.complete:
            return None
        choices = []
        for index in sorted(self._choices):
            c = self._choices[index]
            text = "".join(c["text"])
            if self.kind == CHAT:
                message: dict[str, Any] = {"role": c["role"] or "assistant", "content": text if text or not c["tool_calls"] else None}
                if c["tool_calls"]:
                    message["tool_calls"] = [c["tool_calls"][i] for i in sorted(c["tool_calls"])]
                choices.append({"index": index, "message": message, "finish_reason": c["finish_reason"]})
            else:
                choices.append({"index": index, "text": text, "logprobs": None, "finish_reason": c["finish_reason"]})
        out = {**self._meta, "object": "chat.completion" if self.kind == CHAT else "text_completion", "choices": choices}
        if self._usage:
            out["usage"] = self._usage
        return out


def _merge_tool_call(calls: dict[int, dict[str, Any]], delta: dict[str, Any]) -> None:
    index = int(delta.get("index", 0))
    call = calls.setdefault(index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}})
    if delta.get("id"):
        call["id"] = delta["id"]
    function = delta.get("function") or {}
    if function.get("name"):
        call["function"]["name"] += function["name"]
    if function.get("arguments"):
        call["function"]["arguments"] += function["arguments"]
