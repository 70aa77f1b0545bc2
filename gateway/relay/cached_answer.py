"""Answer from the cache: a stored completion becomes a fresh response, as JSON or as SSE.

A hit looks to the client exactly like an upstream answer: a new id and timestamp, the
model it asked for, `usage` when asked, and, when streaming, proper chunks ending with
`[DONE]`, so the SDK's stream iterator works unchanged.
"""

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

from gateway.edge.wire import CHAT
from gateway.relay.sse import DONE_BYTES, encode

_PIECES = re.compile(r"\s*\S+|\s+")


def fresh_completion(cached: dict[str, Any], kind: str, model: str) -> dict[str, Any]:
    out = {**cached, "id": _new_id(kind), "created": int(time.time()), "model": model}
    out["object"] = "chat.completion" if kind == CHAT else "text_completion"
    return out


def sse_chunks(
    cached: dict[str, Any], kind: str, model: str, include_usage: bool, words_per_chunk: int
) -> Iterator[bytes]:
    meta = {
        "id": _new_id(kind),
        "created": int(time.time()),
        "model": model,
        "object": "chat.completion.chunk" if kind == CHAT else "text_completion",
    }
    for choice in cached.get("choices", []):
        index = choice.get("index", 0)
        if kind == CHAT:
            message = choice.get("message") or {}
            yield encode(
                {
                    **meta,
                    "choices": [
                        {
                            "index": index,
                            "delta": {"role": message.get("role", "assistant"), "content": ""},
                            "finish_reason": None,
                        }
                    ],
                }
            )
            # A reasoning model's thinking first, as it streamed: a streamed hit keeps it.
            for key in ("reasoning_content", "content"):
                for piece in _pieces(message.get(key) or "", words_per_chunk):
                    yield encode({**meta, "choices": [{"index": index, "delta": {key: piece}, "finish_reason": None}]})
            for i, call in enumerate(message.get("tool_calls") or ()):
                yield encode(
                    {
                        **meta,
                        "choices": [
                            {"index": index, "delta": {"tool_calls": [{**call, "index": i}]}, "finish_reason": None}
                        ],
                    }
                )
            last: dict[str, Any] = {"delta": {}}
        else:
            for piece in _pieces(choice.get("text") or "", words_per_chunk):
                yield encode(
                    {**meta, "choices": [{"index": index, "text": piece, "logprobs": None, "finish_reason": None}]}
                )
            last = {"text": "", "logprobs": None}
        yield encode(
            {**meta, "choices": [{"index": index, **last, "finish_reason": choice.get("finish_reason", "stop")}]}
        )
    if include_usage and cached.get("usage"):
        yield encode({**meta, "choices": [], "usage": cached["usage"]})
    yield DONE_BYTES


def _pieces(text: str, words_per_chunk: int) -> Iterator[str]:
    """Split keeping every character, so the pieces join back to exactly `text`."""
    words = _PIECES.findall(text)
    step = max(1, words_per_chunk)
    for i in range(0, len(words), step):
        yield "".join(words[i : i + step])


def _new_id(kind: str) -> str:
    return f"{'chatcmpl' if kind == CHAT else 'cmpl'}-sg{uuid.uuid4().hex[:24]}"
