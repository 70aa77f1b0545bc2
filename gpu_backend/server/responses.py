"""OpenAI response bodies and stream chunks for chat and text completions."""

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from gpu_backend.engine import RequestOutput
from gpu_backend.engine.logprobs import TokenLogprob
from gpu_backend.model import Tokenizer
from gpu_backend.server.logprobs import chat_logprobs, completion_logprobs
from gpu_backend.server.tool_calls import CallReader, ForcedCallReader, TaggedCallReader, TextReader, collect
from gpu_backend.server.tools import ToolRequest


@dataclass
class _ChoiceStream:
    """What one choice of a stream holds between chunks."""

    reader: CallReader
    # Logprobs of tokens whose text is not sent yet, and the characters sent so far.
    pending: list[TokenLogprob] = field(default_factory=list)
    sent_chars: int = 0


@dataclass
class ResponseBuilder:
    """Shapes one request's outputs as OpenAI objects; `chat` picks the chat or text shape."""

    model: str
    chat: bool
    # Set when the request asked for logprobs: renders their tokens.
    tokenizer: Tokenizer | None = None
    # The chat request's tools, and whether the model writes calls as <tool_call> blocks.
    tools: ToolRequest | None = None
    tagged_calls: bool = False

    def __post_init__(self) -> None:
        self._streams: dict[int, _ChoiceStream] = {}
        self.id = f"{'chatcmpl' if self.chat else 'cmpl'}-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def _envelope(self, stream: bool) -> dict[str, Any]:
        kind = ("chat.completion" if self.chat else "text_completion") + (".chunk" if stream and self.chat else "")
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def _reader(self) -> CallReader:
        tools = self.tools
        if tools is None or tools.choice == "none":
            return TextReader()
        if tools.forced:
            return ForcedCallReader()
        return TaggedCallReader([t.name for t in tools.tools]) if self.tagged_calls else TextReader()

    def response(self, samples: list[tuple[str, RequestOutput, list[TokenLogprob]]]) -> dict[str, Any]:
        """One choice per sample: (text, its last output, its logprobs)."""
        choices = []
        for index, (text, last, logprobs) in enumerate(samples):
            rendered = self._logprobs(logprobs, 0)
            if self.chat:
                reader = self._reader()
                message = collect(reader.feed(text) + reader.finish())
                choices.append(
                    {
                        "index": index,
                        "message": message,
                        "logprobs": rendered,
                        "finish_reason": _finish_reason(last, reader.called),
                    }
                )
            else:
                choices.append(
                    {"index": index, "text": text, "logprobs": rendered, "finish_reason": _finish_reason(last)}
                )
        lasts = [last for _, last, _ in samples]
        return {**self._envelope(stream=False), "choices": choices, "usage": usage(*lasts)}

    def first_chunk(self, index: int = 0) -> dict[str, Any] | None:
        """Chat streams open with the assistant role (as OpenAI's do); text streams need nothing."""
        if not self.chat:
            return None
        return self._chunk(index, {"role": "assistant", "content": ""}, None)

    def chunk(self, output: RequestOutput, index: int = 0) -> dict[str, Any] | None:
        """Choice `index`'s chunk for one engine output, or None when it carries neither text nor the end."""
        state = self._streams.setdefault(index, _ChoiceStream(self._reader()))
        state.pending += output.logprobs
        if not self.chat:
            text = output.new_text
        else:
            deltas = state.reader.feed(output.new_text)
            if output.finished:
                deltas += state.reader.finish()
            text = deltas.content
        if not text and not output.finished and not (self.chat and deltas.calls):
            return None  # its logprobs go out with the chunk that carries its text
        finish = _finish_reason(output, state.reader.called) if output.finished else None
        logprobs, state.pending = self._logprobs(state.pending, state.sent_chars), []
        state.sent_chars += len(text)
        if not self.chat:
            return self._chunk(index, text, finish, logprobs)
        delta: dict[str, Any] = {"content": text} if text else {}
        if deltas.calls:
            delta["tool_calls"] = deltas.calls
        return self._chunk(index, delta, finish, logprobs)

    def usage_chunk(self, *lasts: RequestOutput) -> dict[str, Any]:
        """`lasts`: every choice's last output (usage counts all their tokens)."""
        return {**self._envelope(stream=True), "choices": [], "usage": usage(*lasts)}

    def _logprobs(self, entries: list[TokenLogprob], offset: int) -> dict[str, Any] | None:
        if self.tokenizer is None:
            return None
        if self.chat:
            return chat_logprobs(self.tokenizer, entries)
        return completion_logprobs(self.tokenizer, entries, offset)

    def _chunk(
        self, index: int, delta: dict[str, Any] | str, finish: str | None, logprobs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        if self.chat:
            choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        else:
            choice = {"index": index, "text": delta, "logprobs": logprobs, "finish_reason": finish}
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


def _finish_reason(output: RequestOutput, called: bool = False) -> str | None:
    """A call ends the answer as "tool_calls" (one cut short by max_tokens stays "length")."""
    if output.finish_reason is None:
        return None
    reason = output.finish_reason.value
    return "tool_calls" if called and reason == "stop" else reason
