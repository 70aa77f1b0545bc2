"""Putting the chosen examples into the request that goes upstream.

Chat: each example becomes a user turn (its question) and an assistant turn (the strong
model's answer), placed after the request's leading system messages and before everything
else, so the prompt reads [system] [examples] [conversation]. Completions: the examples are
written before the prompt as "Q: ...\\nA: ...\\n\\n" blocks.

The body also carries `semgate_examples` (when marking is on), an extension field that says
where the examples are: {"ids": [...], "messages": [start, end], "chunks": [[s, e], ...]} for
chat, or {"ids": [...], "prompt_chars": [start, end], "chunks": [[s, e], ...]} for completions
(all ends exclusive). `messages` / `prompt_chars` span all the examples; `chunks` gives each
example's own span (message indices for chat, character offsets for completions), in the order
of `ids`. Servers that do not know the field ignore it; a KV-aware backend (gpu_backend/kvshare)
reuses each chunk's KV wherever the same example appears again, in any position.
"""

from collections.abc import Sequence
from typing import Any

from gateway.incontext.examples import Example, leading_system_count

MARK_FIELD = "semgate_examples"


def inject(body: dict[str, Any], examples: Sequence[Example], mark: bool) -> dict[str, Any]:
    """A copy of `body` with the examples in front of the question."""
    if not examples:
        return body
    ids = [e.entry_id for e in examples]
    out = dict(body)
    if isinstance(body.get("messages"), list):
        messages = body["messages"]
        start = leading_system_count(messages)
        turns = [
            t
            for e in examples
            for t in ({"role": "user", "content": e.question}, {"role": "assistant", "content": e.answer})
        ]
        out["messages"] = [*messages[:start], *turns, *messages[start:]]
        chunks = [[start + 2 * i, start + 2 * i + 2] for i in range(len(examples))]
        span = {"ids": ids, "messages": [start, start + len(turns)], "chunks": chunks}
    else:
        parts = [f"Q: {e.question}\nA: {e.answer}\n\n" for e in examples]
        block = "".join(parts)
        prompt = body["prompt"]  # a completion request has one (gateway/edge/wire.py)
        out["prompt"] = block + (prompt[0] if isinstance(prompt, list) else prompt)  # one text prompt: see fingerprint
        ends = [sum(len(p) for p in parts[: i + 1]) for i in range(len(parts))]
        chunks = [[end - len(part), end] for part, end in zip(parts, ends, strict=True)]
        span = {"ids": ids, "prompt_chars": [0, len(block)], "chunks": chunks}
    if mark:
        out[MARK_FIELD] = span
    return out
