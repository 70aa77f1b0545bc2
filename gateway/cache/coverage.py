"""What the embedding saw of a text: its window, the rest, and how much of it the model could read.

all-MiniLM-L6-v2 reads at most 256 word-pieces: two long prompts that share their first ~250
tokens get the same vector (similarity 1.0) whatever follows. And its vocabulary lacks whole
scripts (Ge'ez, Mongolian, Lao, most CJK ideographs ...): their words become [UNK], so two
different questions in such a script embed alike too. A semantic match is therefore allowed only
when the embedding spoke for both whole texts:
- the text beyond each one's window (normalised: case, edge punctuation and runs of spaces aside)
  must end the other text too: embed what fits and require the rest to match. Two wordings of a
  head make their windows end a few words apart, so the rests are compared as suffixes, and the
  part one embedding saw and the other did not must be short (MAX_UNSEEN_SHARE of a window);
- neither text may be mostly unknown to the model (UNREADABLE_SHARE of its characters read as
  [UNK]): such text is answered by exact (normalised) repeats only.
"""

import json
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cache.bundled_model import bundled_model_dir
from gateway.cache.text import normalise

if TYPE_CHECKING:
    from tokenizers import Encoding

UNREADABLE_SHARE = 0.3  # of a text's characters inside [UNK] tokens
MAX_UNSEEN_SHARE = 0.25  # of the shorter window: text one embedding saw and the other did not
_FIRST_PREFIX = 4096  # characters tokenised first; doubled until the window is known for certain
TAIL, UNREADABLE = "tail", "unreadable"


@dataclass(frozen=True)
class Coverage:
    unknown_share: float  # of the embedded characters, the share the model read as [UNK]
    tail: str  # the normalised text beyond the embedding's window ("" when it all fits)
    window_chars: int  # how many characters of the text the embedding read
    normalised: str  # the whole text, normalised

    @property
    def readable(self) -> bool:
        return self.unknown_share < UNREADABLE_SHARE

    @property
    def truncated(self) -> bool:
        return bool(self.tail)


class EmbeddingWindow:
    """The embedding model's tokenizer, cut where the model cuts."""

    def __init__(self, model_dir: Path, max_tokens: int | None = None) -> None:
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.max_tokens = max_tokens or int(config.get("max_seq_length", 256))
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()
        self._unknown = self._tokenizer.token_to_id("[UNK]")

    def encode(self, text: str) -> "tuple[Encoding, str]":
        """The model's input for `text` (a `tokenizers.Encoding`, cut at the window), and the prefix of
        `text` it was read from. Only a prefix a little longer than the window is tokenised, doubled
        while the cut could still change the window, so the work is bounded by the window, not by the
        text. `encode_batch` releases the GIL (`encode` does not): the event loop runs meanwhile."""
        size = _FIRST_PREFIX
        while True:
            piece = text[:size]
            encoding = self._tokenizer.encode_batch([piece])[0]
            if len(piece) == len(text):
                return encoding, piece
            spans = [
                span
                for span, special in zip(encoding.offsets, encoding.special_tokens_mask, strict=True)
                if not special
            ]
            # Only the word the cut splits can change; the window is certain once a word boundary lies past its end.
            if len(spans) >= self.max_tokens - 2 and any(_splits_words(c) for c in piece[spans[-1][1] :]):
                return encoding, piece
            size *= 2

    def coverage(self, text: str) -> Coverage:
        encoding, _ = self.encode(text)
        spans = [
            (token, span)
            for token, span, special in zip(encoding.ids, encoding.offsets, encoding.special_tokens_mask, strict=True)
            if not special
        ]
        end = len(text) if len(spans) < self.max_tokens - 2 else spans[-1][1][1]
        read = sum(e - s for _, (s, e) in spans)
        unknown = sum(e - s for token, (s, e) in spans if token == self._unknown)
        return Coverage(
            unknown_share=unknown / read if read else 0.0,
            tail=normalise(text[end:]),
            window_chars=end,
            normalised=normalise(text),
        )

    @staticmethod
    @cache
    def bundled() -> "EmbeddingWindow":
        """The window of the shipped all-MiniLM-L6-v2 (gateway/cache/minilm.py embeds with the same cut)."""
        return EmbeddingWindow(bundled_model_dir())


def coverage_rejection(query: Coverage, cached: Coverage) -> str | None:
    """Why a semantic match between the two texts would rest on what the embedding did not see."""
    if not (query.readable and cached.readable):
        return UNREADABLE
    if not (query.tail or cached.tail):
        return None
    unseen = abs(len(query.tail) - len(cached.tail))
    if (
        not cached.normalised.endswith(query.tail)
        or not query.normalised.endswith(cached.tail)
        or unseen > MAX_UNSEEN_SHARE * min(query.window_chars, cached.window_chars)
    ):
        return TAIL
    return None


def _splits_words(char: str) -> bool:
    """Whether the model's pre-tokenizer (BERT's) splits words at `char`: spaces and punctuation."""
    return char.isspace() or unicodedata.category(char)[0] == "P" or (char.isascii() and not char.isalnum())
