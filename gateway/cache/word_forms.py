"""One written form per word where English offers two for the same thing.

- synonyms: "purchase" and "buy", "automobile" and "car", "assist" and "help" read as one word, from a list
  derived from WordNet (gateway/cache/canonical_synonyms.txt, by `python -m gateway.cache.derive_canonical_synonyms`:
  only words whose dominant sense is the same synset); a plural stays plural ("automobiles" -> "cars");
- British spelling reads as American ("colour" -> "color", "organise" -> "organize", "centre" -> "center",
  "travelled" -> "traveled") where the American word is a whole word of the embedding model's vocabulary;
- number words from two to twelve are written as digits ("five pounds" -> "5 pounds"); "one" stays, it is a
  pronoun as often as a count.

`normalise_words` reads a canonical form (lower case): what is embedded and what the verifier's word
features read. The guards read the text as written, so a rewrite here can cost a hit, never let a trap pass.
"""

import functools
import re
from pathlib import Path

from gateway.cache.minilm import bundled_model_dir

SYNONYMS_PATH = Path(__file__).with_name("canonical_synonyms.txt")
NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
# British ending -> American ending, tried longest first; each rewrite must land on a word the model knows.
_SPELLING_ENDINGS = (
    ("isation", "ization"),
    ("ising", "izing"),
    ("ised", "ized"),
    ("ises", "izes"),
    ("ise", "ize"),
    ("yse", "yze"),
    ("our", "or"),
    ("ours", "ors"),
    ("tre", "ter"),
    ("tres", "ters"),
    ("lled", "led"),
    ("lling", "ling"),
    ("ogue", "og"),
    ("ence", "ense"),
)
# Doubled-l forms are real words of their own in the vocabulary ("filled", "filed"): only unknown ones move.
_KNOWN_STAYS = ("lled", "lling")
MIN_SPELLING_LENGTH = 6  # shorter words ending like British spellings are other words ("flour", "hour")
_WORD = re.compile(r"(?<![\w'])[a-z]{2,}(?![\w'])")


@functools.lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    """word -> its representative (gateway/cache/canonical_synonyms.txt)."""
    pairs = (line.split() for line in SYNONYMS_PATH.read_text(encoding="utf-8").splitlines() if line[:1] != "#")
    return dict(pairs)


@functools.lru_cache(maxsize=1)
def model_words() -> frozenset[str]:
    """The embedding model's whole lower-case words: a spelling rewrite must land on one of them."""
    lines = (bundled_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line.isalpha() and line.isascii() and line.islower())


def normalise_words(form: str) -> str:
    return _WORD.sub(lambda match: _one_form(match.group(0)), form)


@functools.lru_cache(maxsize=16384)
def _one_form(word: str) -> str:
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    word = _american(word)
    table = synonyms()
    if word in table:
        return table[word]
    # A plural keeps its ending; other endings do not carry over ("selected" is no "chooseed").
    if word.endswith("s") and word[:-1] in table:
        return table[word[:-1]] + "s"
    return word


def _american(word: str) -> str:
    known = model_words()
    if len(word) < MIN_SPELLING_LENGTH:
        return word
    for british, american in _SPELLING_ENDINGS:
        if word.endswith(british) and not (british in _KNOWN_STAYS and word in known):
            candidate = word[: -len(british)] + american
            if candidate in known:
                return candidate
    return word
