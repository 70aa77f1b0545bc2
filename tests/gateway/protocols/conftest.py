"""A deterministic chat upstream for the adapter tests: the chat completion (whole or as stream chunks)
that a chat-completions server would send for a given answer."""

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class ChatAnswer:
    text: str | None = None
    reasoning: str | None = None
    tool_calls: list[tuple[str, str, str]] = field(default_factory=list)  # (call id, name, arguments)
    finish_reason: str = "stop"
    prompt_tokens: int = 11
    completion_tokens: int = 7

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    def completion(self, model: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.reasoning:
            message["reasoning_content"] = self.reasoning
        if self.tool_calls:
            message["tool_calls"] = [
                {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in self.tool_calls
            ]
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
            "usage": self.usage(),
        }

    def chunks(self, model: str, piece: int = 3) -> list[dict[str, Any]]:
        """Deltas of `piece` characters, the finish reason, then the usage chunk (include_usage)."""
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        for key, text in (("reasoning_content", self.reasoning or ""), ("content", self.text or "")):
            deltas += [{key: text[i : i + piece]} for i in range(0, len(text), piece)]
        for position, (call_id, name, arguments) in enumerate(self.tool_calls):
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": position,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
            deltas += [
                {"tool_calls": [{"index": position, "function": {"arguments": arguments[i : i + piece]}}]}
                for i in range(0, len(arguments), piece)
            ]
        head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": model}
        chunks = [{**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        chunks.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": self.finish_reason}]})
        chunks.append({**head, "choices": [], "usage": self.usage()})
        return chunks


@pytest.fixture
def chat_answer() -> type[ChatAnswer]:
    """The ChatAnswer class (test modules here cannot import a conftest by name)."""
    return ChatAnswer
