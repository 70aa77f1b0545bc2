"""OpenAI response bodies and stream chunks for chat and text completions."""

import time
import uuid
from dataclasses import dataclass
from typing import Any

from gpu_backend.engine import RequestOutput


@dataclass
class ResponseBuilder:
    """Shapes one request's outputs as OpenAI objects; `chat` picks the chat or text shape."""

    model: str
    chat: bool

    def __post_init__(self) -> None:
        self.id = f"{'chatcmpl' if self.chat else 'cmpl'}-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def _envelope(self, stream: bool) -> dict[str, Any]:
        kind = ("chat.completion" if self.chat else "text_completion") + (".chunk" if stream and self.chat else "")
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def response(self, text: str, last: RequestOutput) -> dict[str, Any]:
        if self.chat:
            choice = {"index": 0, "message": {"role": "assistant", "content": text},
                      "logprobs": None, "finish_reason": _finish_reason(last)}
        else:
            choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": _finish_reason(last)}
        return {**self._envelope(stream=False), "choices": [choice], "usage": usage(last)}

    def first_chunk(self) -> dict[str, Any] | None:
        """Chat streams open with the assistant role (as OpenAI's do); text streams need nothing."""
        if not self.chat:
            return None
        return self._chunk({"role": "assistant", "content": ""}, None)

    def chunk(self, output: RequestOutput) -> dict[str, Any] | None:
        """The chunk for one engine output, or None when it carries neither text nor the end."""
        if not output.new_text and not output.finished:
            return None
        finish = _finish_reason(output) if output.finished else None
        if self.chat:
            return self._chunk({"content": output.new_text} if output.new_text else {}, finish)
        return self._chunk(output.new_text, finish)

    def usage_chunk(self, last: RequestOutput) -> dict[str, Any]:
        return {**self._envelope(stream=True), "choices": [], "usage": usage(last)}

    def _chunk(self, delta: dict[str, str] | str, finish: str | None) -> dict[str, Any]:
        if self.chat:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": delta, "logprobs": None, "finish_reason": finish}
        return {**self._envelope(stream=True), "choices": [choice]}


def usage(last: RequestOutput) -> dict[str, Any]:
    return {
        "prompt_tokens": last.num_prompt_tokens,
        "completion_tokens": last.num_output_tokens,
        "total_tokens": last.num_prompt_tokens + last.num_output_tokens,
        "prompt_tokens_details": {"cached_tokens": last.num_cached_tokens},
    }


def _finish_reason(output: RequestOutput) -> str | None:
    return None if output.finish_reason is None else output.finish_reason.value
