"""Chunk marks (message indices or prompt characters) -> exact token spans of the prompt.

A chunk's tokens must be the same tokens whichever prompt it appears in, or its KV cannot
be reused. The prompt is tokenized whole, so a boundary counts only where tokenizing the
text before it gives exactly the prompt's leading tokens (no BPE merge across it); a chunk
with a boundary that is not a token boundary is dropped (computed normally), never guessed.
Chat: the text before message i is the template rendered over messages[:i] without a
generation prompt, which must be a prefix of the full rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gpu_backend.model.chat_template import ChatTemplate
from gpu_backend.model.tokenizer import Tokenizer


def _token_boundary(tokenizer: Tokenizer, ids: Sequence[int], text: str, prefix: str, add_special: bool) -> int | None:
    """Tokens of `text` before its prefix `prefix`, or None if that is no token boundary."""
    if not text.startswith(prefix):
        return None
    head = tokenizer.encode(prefix, add_special=add_special) if prefix else []
    if add_special and not prefix and tokenizer.add_bos and tokenizer.bos_id is not None:
        head = [tokenizer.bos_id]
    return len(head) if list(ids[: len(head)]) == head else None


def _spans(
    tokenizer: Tokenizer, ids: list[int], text: str, prefixes: list[tuple[str, str]], add_special: bool
) -> list[tuple[int, int]]:
    spans = []
    for before_start, before_end in prefixes:
        start = _token_boundary(tokenizer, ids, text, before_start, add_special)
        end = _token_boundary(tokenizer, ids, text, before_end, add_special)
        if start is not None and end is not None and start < end:
            spans.append((start, end))
    return spans


def chat_chunk_spans(
    template: ChatTemplate, tokenizer: Tokenizer, messages: list[dict[str, Any]], chunks: Sequence[tuple[int, int]]
) -> tuple[list[int], list[tuple[int, int]]]:
    """(prompt token ids, token span of each chunk that has exact token boundaries)."""
    text = template.render(messages, add_generation_prompt=True)
    ids = tokenizer.encode(text)
    prefixes = [
        (
            template.render(messages[:s], add_generation_prompt=False) if s else "",
            template.render(messages[:e], add_generation_prompt=False),
        )
        for s, e in chunks
    ]
    return ids, _spans(tokenizer, ids, text, prefixes, add_special=False)


def prompt_chunk_spans(
    tokenizer: Tokenizer, prompt: str, chunks: Sequence[tuple[int, int]]
) -> tuple[list[int], list[tuple[int, int]]]:
    """Completions: (prompt token ids with BOS as the engine adds it, chunk token spans)."""
    ids = tokenizer.encode(prompt, add_special=True)
    prefixes = [(prompt[:s], prompt[:e]) for s, e in chunks]
    return ids, _spans(tokenizer, ids, prompt, prefixes, add_special=True)
