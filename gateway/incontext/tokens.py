"""Counting the tokens an example takes, to fit examples into a policy's token budget.

With a Hugging Face tokenizer.json for the model (`models[].tokenizer` in gateway.yaml), the
count is exact. Without one it is a conservative estimate: one token per 3 UTF-8 bytes, rounded
up, plus 8 tokens per message for the chat template's role markers. Byte-level BPE vocabularies
(Llama, SmolLM2, GPT) average about 4 bytes per token on English and about 3 on code, so the
estimate overshoots for typical text: the examples then stay inside the budget.
"""

import math
from functools import lru_cache
from typing import Protocol

TEMPLATE_TOKENS_PER_MESSAGE = 8
BYTES_PER_TOKEN = 3


class TokenCounter(Protocol):
    def count(self, text: str) -> int: ...


class EstimatedTokens:
    def count(self, text: str) -> int:
        return math.ceil(len(text.encode()) / BYTES_PER_TOKEN)


class TokenizerTokens:
    def __init__(self, path: str) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(path)

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


@lru_cache(maxsize=8)
def counter_for(tokenizer_path: str | None) -> TokenCounter:
    return TokenizerTokens(tokenizer_path) if tokenizer_path else EstimatedTokens()


def turn_tokens(counter: TokenCounter, question: str, answer: str) -> int:
    """Tokens one example takes as a user turn and an assistant turn."""
    return counter.count(question) + counter.count(answer) + 2 * TEMPLATE_TOKENS_PER_MESSAGE
