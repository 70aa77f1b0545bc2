"""A deterministic chat upstream for the adapter tests: the chat completion (whole or as stream chunks)
that a chat-completions server would send for a given answer; and a running semgate in front of the
echo upstream for the route tests through the SDKs."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gateway_setup import gateway_head

from gateway.app import build_app
from gateway.config import parse_config
from loadtest.echo_upstream import EchoSettings, EchoUpstream


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


KEY_A, KEY_B = "sk-semgate-tenant-a", "sk-semgate-tenant-b"


@dataclass
class Semgate:
    url: str  # the gateway's base URL (add /v1 for an SDK)
    echo: EchoUpstream  # the deterministic upstream behind it
    key_a: str = KEY_A  # tenant a's API key
    key_b: str = KEY_B  # tenant b's


@pytest.fixture
def start_semgate(serve: Any, embedding_model: Any, tmp_path: Path) -> Callable[[str], Semgate]:
    """start(upstream_yaml="") -> a running gateway, cache on, two tenants (KEY_A, KEY_B), in front of the
    echo upstream serving echo-1 and echo-2 (its answer: "Echo: " + the last user text, or JSON of the
    schema asked for); `upstream_yaml` is one more line of the upstream's config (`responses: native`)."""

    def start(upstream_yaml: str = "") -> Semgate:
        echo = EchoUpstream(EchoSettings(models=("echo-1", "echo-2")))
        echo.url = serve(echo.app).url
        tenants = ", ".join(
            f"{{name: {name}, api_key_sha256: {hashlib.sha256(key.encode()).hexdigest()}}}"
            for name, key in (("a", KEY_A), ("b", KEY_B))
        )
        config = (
            gateway_head(str(tmp_path / "cache.db"))
            + f"""upstreams:
  - name: echo
    base_url: {echo.url}/v1
    models: [echo-1, echo-2]
    timeouts: {{connect_s: 1, read_s: 5}}
    retries: 0
    {upstream_yaml}
tenants: [{tenants}]
"""
        )
        return Semgate(serve(build_app(parse_config(config, "test.yaml"), embedding_model)).url, echo)

    return start


@pytest.fixture
def semgate(start_semgate: Callable[[str], Semgate]) -> Semgate:
    """The gateway of start_semgate, every upstream translated to chat completions."""
    return start_semgate("")
