"""Text normalisation and tokenisation shared by the exact tier, the guards and the verifier.

One definition of "the same words" keeps the three consistent: a question the exact tier
treats as identical must also look identical to the guards and to the verifier's features.
"""

import re
import unicodedata

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})  # noqa: RUF001 typographic quotes are what this folds
# Punctuation that never changes what is asked: trailing "?!.", quotes, repeated spaces. Stripped with
# str.strip, not a regex: an anchored regex retries from every position of a long run (quadratic).
_EDGE_PUNCT = " \"'`.,;:!?¿¡"

# fmt: off
# Kept several to a line: one word a line (the formatter's way) would make this list 111 lines long.
STOPWORDS = frozenset(
    [
        "a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "doing", "have",
        "has", "had", "having", "i", "me", "my", "mine", "we", "us", "our", "you", "your", "he", "him", "his", "she",
        "her", "it", "its", "they", "them", "their", "this", "that", "these", "those", "of", "in", "on", "at", "to",
        "for", "from", "by", "with", "about", "as", "into", "through", "over", "under", "up", "down", "out", "off",
        "again", "then", "once", "there", "here", "and", "or", "but", "if", "so", "than", "too", "very", "can", "could",
        "would", "should", "will", "shall", "may", "might", "must", "just", "also", "some", "any", "each", "few",
        "more", "most", "other", "such", "own", "same", "only", "both", "all", "s", "t", "get", "got", "what", "which",
        "who", "whom", "whose", "when", "where", "why", "how",
    ]
)
# fmt: on

QUESTION_WORDS = (
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "when",
    "where",
    "why",
    "how",
    "is",
    "are",
    "can",
    "could",
    "should",
    "would",
    "do",
    "does",
    "did",
    "will",
)


def normalise(text: str) -> str:
    """The form two requests must share to be the same question for the exact tier.

    Case, Unicode compatibility forms, surrounding punctuation and runs of whitespace do not
    change a question; everything else (inner punctuation, digits, word order) may.
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)
    return _SPACE.sub(" ", text).strip().strip(_EDGE_PUNCT)


def words(text: str) -> list[str]:
    """Lower-case word tokens, keeping contractions ("don't") whole."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES))


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def stem(word: str) -> str:
    """A light suffix strip so "questions"/"question" and "Trump's"/"Trump" compare equal."""
    word = word.removesuffix("'s")
    for suffix in ("ies", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def char_ngrams(text: str, n: int = 3) -> set[str]:
    joined = " ".join(words(text))
    return {joined[i : i + n] for i in range(max(len(joined) - n + 1, 1))}


def question_word(text: str) -> str:
    """The first interrogative word: "how" and "why" ask different things about the same topic."""
    for word in words(text):
        if word in QUESTION_WORDS:
            return word
    return ""
