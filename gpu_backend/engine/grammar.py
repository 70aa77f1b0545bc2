"""Constrained decoding: JSON schemas compiled to token masks (xgrammar; why xgrammar: docs/backend.md).

A request with a grammar gets its own matcher, which tracks where its output is in the grammar.
Each step the engine fills the token masks of only the rows that have one and sets every token the
grammar forbids to -inf in those rows, so unconstrained sequences in the same batch pay nothing.
Compiled grammars are cached by the compiler (keyed by schema text and options).
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

import torch
import xgrammar as xgr

from gpu_backend.errors import InvalidRequest
from gpu_backend.model import Tokenizer

# The compact separators a JSON answer is written with: free whitespace lets a small model
# pad an answer with newlines until it runs out of tokens.
_SEPARATORS = (", ", ": ")


@dataclass(frozen=True)
class GrammarSpec:
    """What a request asked for: any JSON object, or a value of `schema`."""

    kind: str  # "json_object" or "json_schema"
    schema: str = ""  # the JSON schema as text (the cache key; property order is the order answers follow)
    # True: no properties or array items beyond the schema's, as OpenAI's strict mode;
    # False: JSON Schema's own rule (additionalProperties allowed unless the schema says otherwise).
    strict: bool = False

    @classmethod
    def json_schema(cls, schema: dict[str, Any], strict: bool) -> "GrammarSpec":
        return cls("json_schema", json.dumps(schema), strict)


@dataclass(frozen=True)
class CompiledGrammar:
    spec: GrammarSpec
    compiled: Any = field(repr=False)  # xgrammar.CompiledGrammar


def encoded_vocab(tokenizer: Tokenizer, vocab_size: int) -> list[str]:
    """Each id's token in the byte-level alphabet; control tokens (<|im_end|>, ...) as "", which
    xgrammar treats as special: never part of an answer's text, a stop token only where listed."""
    vocab = [""] * vocab_size
    special = {t.content for t in tokenizer.backend.get_added_tokens_decoder().values() if t.special}
    for token, index in tokenizer.backend.get_vocab(with_added_tokens=True).items():
        if index < vocab_size and token not in special:
            vocab[index] = token
    return vocab


class GrammarCompiler:
    """Compiles specs for one tokenizer; thread-safe (the server compiles off the engine thread)."""

    def __init__(self, tokenizer: Tokenizer, vocab_size: int, stop_ids: list[int]) -> None:
        self.vocab_size = vocab_size
        info = xgr.TokenizerInfo(
            encoded_vocab(tokenizer, vocab_size),
            xgr.VocabType.BYTE_LEVEL,
            vocab_size=vocab_size,
            stop_token_ids=stop_ids,
        )
        self._compiler = xgr.GrammarCompiler(info, max_threads=1, cache_enabled=True)

    def cache_size_bytes(self) -> int:
        return self._compiler.get_cache_size_bytes()

    def compile(self, spec: GrammarSpec) -> CompiledGrammar:
        """Raises InvalidRequest for a schema xgrammar cannot turn into a grammar."""
        schema = spec.schema if spec.kind == "json_schema" else '{"type": "object"}'
        try:
            compiled = self._compiler.compile_json_schema(
                schema, any_whitespace=False, separators=_SEPARATORS, strict_mode=spec.strict
            )
        except (RuntimeError, ValueError) as error:
            where = re.sub(r"^\[[^\]]*\] \S+:\d+: ", "", str(error).strip())  # drop xgrammar's time and C++ line
            raise InvalidRequest(f"the JSON schema cannot be used for constrained decoding: {where}") from None
        return CompiledGrammar(spec, compiled)


class GrammarMatcher:
    """One request's place in its grammar."""

    def __init__(self, grammar: CompiledGrammar) -> None:
        self._matcher = xgr.GrammarMatcher(grammar.compiled)

    def accept(self, token: int) -> bool:
        return self._matcher.accept_token(token)

    def is_terminated(self) -> bool:
        """The answer is complete and a stop token ended it."""
        return self._matcher.is_terminated()


class TokenMasker:
    """Masks the logits rows of constrained sequences, in one batched call."""

    def __init__(self, vocab_size: int) -> None:
        self.vocab_size = vocab_size
        self._batch = xgr.BatchGrammarMatcher(max_threads=1)

    def apply(self, logits: torch.Tensor, matchers: list[GrammarMatcher | None]) -> None:
        """Set to -inf, in place, every token the grammar forbids in rows whose matcher is not None."""
        rows = [i for i, m in enumerate(matchers) if m is not None]
        if not rows:
            return
        bitmask = torch.full((len(matchers), (self.vocab_size + 31) // 32), -1, dtype=torch.int32)
        active = [m._matcher for m in matchers if m is not None]
        self._batch.batch_fill_next_token_bitmask(active, bitmask, rows)
        xgr.apply_token_bitmask_inplace(logits, bitmask.to(logits.device), vocab_size=self.vocab_size, indices=rows)
