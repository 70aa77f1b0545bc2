"""Byte-level BPE tokenizer built from a GGUF vocabulary (or a HF tokenizer.json), plus a
streaming detokenizer that never emits half of a UTF-8 character."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from tokenizers import AddedToken, Regex, decoders, models, pre_tokenizers
from tokenizers import Tokenizer as BackendTokenizer

from gpu_backend.errors import UnsupportedModel

log = logging.getLogger(__name__)

# GGUF token types (llama.cpp's llama_token_type).
_CONTROL, _USER_DEFINED = 3, 4

# Texts llama.cpp treats as end-of-generation wherever they appear as control tokens.
_END_OF_GENERATION = {
    "<|endoftext|>",
    "<|im_end|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|end_of_text|>",
    "<end_of_turn>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "</s>",
    "<EOT>",
}

_LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# tokenizer.ggml.pre -> how text is split before BPE, as llama.cpp's llama-vocab.cpp does it.
_DIGITS_THEN_GPT2 = ("smollm", "starcoder", "refact", "codeshell", "command-r", "exaone", "minerva")
_LLAMA3_FAMILY = ("llama-bpe", "llama3", "llama-v3", "smaug-bpe", "dbrx", "falcon3")
_QWEN2_FAMILY = ("qwen2", "deepseek-r1-qwen")
_GPT2_FAMILY = ("default", "gpt2", "gpt-2")


def _gpt2_byte_level() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)


def pre_tokenizer_for(pre_type: str | None) -> pre_tokenizers.PreTokenizer:
    if pre_type in _DIGITS_THEN_GPT2:
        # Every digit is its own piece, then GPT-2's split (what the SmolLM/StarCoder vocab was trained with).
        return pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), _gpt2_byte_level()])
    for family, split in ((_LLAMA3_FAMILY, _LLAMA3_SPLIT), (_QWEN2_FAMILY, _QWEN2_SPLIT)):
        if pre_type in family:
            return pre_tokenizers.Sequence(
                [
                    pre_tokenizers.Split(Regex(split), behavior="isolated"),
                    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
                ]
            )
    if pre_type not in (None, *_GPT2_FAMILY):
        log.warning("unknown tokenizer.ggml.pre %r: splitting text as GPT-2 does", pre_type)
    return _gpt2_byte_level()


@lru_cache(maxsize=1)
def _byte_to_char() -> dict[int, str]:
    """GPT-2's printable stand-in character for each of the 256 byte values."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = {byte: chr(byte) for byte in printable}
    for shift, byte in enumerate(b for b in range(256) if b not in chars):
        chars[byte] = chr(256 + shift)
    return chars


@lru_cache(maxsize=1)
def _char_to_byte() -> dict[str, int]:
    return {char: byte for byte, char in _byte_to_char().items()}


class Tokenizer:
    """encode/decode over a `tokenizers` backend, with the ids a generation loop needs."""

    def __init__(
        self,
        backend: BackendTokenizer,
        bos_id: int | None,
        eos_id: int | None,
        stop_ids: Iterable[int],
        add_bos: bool = False,
    ):
        self.backend = backend
        self.bos_id = bos_id
        self.eos_id = eos_id
        self.stop_ids = frozenset(stop_ids)
        self.add_bos = add_bos
        self.vocab_size = backend.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str, add_special: bool = False) -> list[int]:
        """Token ids of `text`; special tokens written in the text (e.g. <|im_start|>) become their ids.
        add_special prepends BOS when the model asks for it."""
        ids = self.backend.encode(text, add_special_tokens=False).ids
        if add_special and self.add_bos and self.bos_id is not None:
            ids = [self.bos_id, *ids]
        return ids

    def decode(self, ids: Sequence[int], skip_special: bool = True) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=skip_special)

    def token_text(self, token_id: int) -> str:
        return self.decode([token_id], skip_special=False)

    def token_bytes(self, token_id: int) -> bytes:
        """The token's own bytes (a byte-level token can hold part of a UTF-8 character)."""
        piece = self.backend.id_to_token(token_id) or ""
        char_to_byte = _char_to_byte()
        if piece and all(c in char_to_byte for c in piece):
            return bytes(char_to_byte[c] for c in piece)
        return piece.encode()  # a special token, or a vocabulary that is not byte-level

    def detokenizer(self, skip_special: bool = True) -> IncrementalDetokenizer:
        return IncrementalDetokenizer(self, skip_special)

    # ---- construction ----

    @classmethod
    def from_gguf_metadata(cls, meta: dict[str, Any]) -> Tokenizer:
        model = meta.get("tokenizer.ggml.model")
        if model != "gpt2":
            raise UnsupportedModel(f"GGUF tokenizer model {model!r} is not supported (only byte-level BPE 'gpt2')")
        tokens: list[str] = list(meta["tokenizer.ggml.tokens"])
        token_types: list[int] = list(meta.get("tokenizer.ggml.token_type") or [1] * len(tokens))
        byte_to_char = _byte_to_char()
        alphabet = set(byte_to_char.values())
        # A token the file spells with characters outside the byte alphabet is re-spelled byte by byte.
        spelled = [t if set(t) <= alphabet else "".join(byte_to_char[b] for b in t.encode()) for t in tokens]
        vocab = {token: index for index, token in enumerate(spelled)}
        merges = [tuple(merge.split(" ", 1)) for merge in meta["tokenizer.ggml.merges"]]
        backend = BackendTokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
        backend.pre_tokenizer = pre_tokenizer_for(meta.get("tokenizer.ggml.pre"))
        backend.decoder = decoders.ByteLevel()
        # A control token spelled outside the byte alphabet is a llama.cpp mislabel; HF skips it too.
        backend.add_special_tokens(
            [
                AddedToken(t, special=True, normalized=False)
                for t, original, kind in zip(spelled, tokens, token_types, strict=True)
                if kind == _CONTROL and set(original) <= alphabet
            ]
        )
        backend.add_tokens(
            [
                AddedToken(t, special=False, normalized=False)
                for t, kind in zip(spelled, token_types, strict=True)
                if kind == _USER_DEFINED
            ]
        )

        bos = meta.get("tokenizer.ggml.bos_token_id")
        eos = meta.get("tokenizer.ggml.eos_token_id")
        ends = (eos, meta.get("tokenizer.ggml.eot_token_id"), meta.get("tokenizer.ggml.eom_token_id"))
        stops = {i for i in ends if i is not None}
        stops |= {
            i
            for i, (t, kind) in enumerate(zip(tokens, token_types, strict=True))
            if kind == _CONTROL and t in _END_OF_GENERATION
        }
        return cls(backend, bos, eos, stops, add_bos=bool(meta.get("tokenizer.ggml.add_bos_token", False)))

    @classmethod
    def from_hf_folder(cls, folder: str | Path, eos_ids: Iterable[int] = ()) -> Tokenizer:
        """A HF model folder with tokenizer.json (and usually tokenizer_config.json)."""
        folder = Path(folder)
        backend = BackendTokenizer.from_file(str(folder / "tokenizer.json"))
        config = _read_json(folder / "tokenizer_config.json")

        def token_id(key: str) -> int | None:
            token = config.get(key)
            if isinstance(token, dict):
                token = token.get("content")
            return backend.token_to_id(token) if token else None

        bos, eos = token_id("bos_token"), token_id("eos_token")
        stops = set(eos_ids) | ({eos} if eos is not None else set())
        end_ids = (backend.token_to_id(t) for t in _END_OF_GENERATION)
        stops |= {i for i in end_ids if i is not None}
        if eos is None and stops:
            eos = min(stops)
        return cls(backend, bos, eos, stops, add_bos=bool(config.get("add_bos_token", False)))


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


class IncrementalDetokenizer:
    """Turns generated ids into text deltas for streaming.

    A token can end inside a multi-byte character (emoji, CJK split across byte tokens). Its
    text is held back until the character completes, so every delta is whole UTF-8 and the
    deltas concatenate to decode(all ids)."""

    def __init__(self, tokenizer: Tokenizer, skip_special: bool = True):
        self._tokenizer = tokenizer
        self._skip_special = skip_special
        self._ids: list[int] = []
        self._prefix = 0  # start of the window decoded for context
        self._read = 0  # ids before this are already emitted

    def push(self, token_id: int) -> str:
        """Add one generated id; returns the text it completes (may be "")."""
        self._ids.append(token_id)
        decode = self._tokenizer.decode
        emitted = decode(self._ids[self._prefix : self._read], self._skip_special)
        current = decode(self._ids[self._prefix :], self._skip_special)
        if current.endswith("\ufffd"):
            return ""
        self._prefix, self._read = self._read, len(self._ids)
        return current[len(emitted) :]

    def flush(self) -> str:
        """Text still held back at the end of generation (an unfinished character shows as U+FFFD)."""
        decode = self._tokenizer.decode
        emitted = decode(self._ids[self._prefix : self._read], self._skip_special)
        current = decode(self._ids[self._prefix :], self._skip_special)
        self._prefix = self._read = len(self._ids)
        return current[len(emitted) :]
