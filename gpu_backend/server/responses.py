"""OpenAI response bodies and stream chunks for chat and text completions."""

import time
import uuid
from dataclasses import dataclass
from typing import Any

from gpu_backend.engine import RequestOutput
from gpu_backend.engine.logprobs import TokenLogprob
from gpu_backend.model import Tokenizer
from gpu_backend.server.logprobs import chat_logprobs, completion_logprobs


@dataclass
class ResponseBuilder:
    """Shapes one request's outputs as OpenAI objects; `chat` picks the chat or text shape."""

    model: str
    chat: bool
    # Set when the request asked for logprobs: renders their tokens.
    tokenizer: Tokenizer | None = None

    def __post_init__(self) -> None:
        # Streaming: logprobs of tokens whose text is not sent yet, and the characters sent so far.
        self._pending: list[TokenLogprob] = []
        self._sent_chars = 0
        self.id = f"{'chatcmpl' if self.chat else 'cmpl'}-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def _envelope(self, stream: bool) -> dict[str, Any]:
        kind = ("chat.completion" if self.chat else "text_completion") + (".chunk" if stream and self.chat else "")
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def response(self, samples: list[tuple[str, RequestOutput, list[TokenLogprob]]]) -> dict[str, Any]:
        """One choice per sample: (text, its last output, its logprobs)."""
        choices = []
        for index, (text, last, logprobs) in enumerate(samples):
            rendered = self._logprobs(logprobs, 0)
            if self.chat:
                choices.append({"index": index, "message": {"role": "assistant", "content": text},
                                "logprobs": rendered, "finish_reason": _finish_reason(last)})
            else:
                choices.append({"index": index, "text": text, "logprobs": rendered,
                                "finish_reason": _finish_reason(last)})
        lasts = [last for _, last, _ in samples]
        return {**self._envelope(stream=False), "choices": choices, "usage": usage(*lasts)}

    def first_chunk(self) -> dict[str, Any] | None:
        """Chat streams open with the assistant role (as OpenAI's do); text streams need nothing."""
        if not self.chat:
            return None
        return self._chunk({"role": "assistant", "content": ""}, None)

    def chunk(self, output: RequestOutput) -> dict[str, Any] | None:
        """The chunk for one engine output, or None when it carries neither text nor the end."""
        self._pending += output.logprobs
        if not output.new_text and not output.finished:
            return None  # its logprobs go out with the chunk that carries its text
        finish = _finish_reason(output) if output.finished else None
        logprobs, self._pending = self._logprobs(self._pending, self._sent_chars), []
        self._sent_chars += len(output.new_text)
        if self.chat:
            return self._chunk({"content": output.new_text} if output.new_text else {}, finish, logprobs)
        return self._chunk(output.new_text, finish, logprobs)

    def usage_chunk(self, last: RequestOutput) -> dict[str, Any]:
        return {**self._envelope(stream=True), "choices": [], "usage": usage(last)}

    def _logprobs(self, entries: list[TokenLogprob], offset: int) -> dict[str, Any] | None:
        if self.tokenizer is None:
            return None
        if self.chat:
            return chat_logprobs(self.tokenizer, entries)
        return completion_logprobs(self.tokenizer, entries, offset)

    def _chunk(self, delta: dict[str, str] | str, finish: str | None,
               logprobs: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.chat:
            choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        else:
            choice = {"index": 0, "text": delta, "logprobs": logprobs, "finish_reason": finish}
        return {**self._envelope(stream=True), "choices": [choice]}


def usage(last: RequestOutput, *samples: RequestOutput) -> dict[str, Any]:
    """As OpenAI counts it: the prompt once, the completion tokens of every sample."""
    completion = last.num_output_tokens + sum(s.num_output_tokens for s in samples)
    return {
        "prompt_tokens": last.num_prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": last.num_prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": last.num_cached_tokens},
    }


def _finish_reason(output: RequestOutput) -> str | None:
    return None if output.finish_reason is None else output.finish_reason.value
