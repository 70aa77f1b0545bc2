"""The canonical form of a question: what is embedded and what the verifier's word features read.

Two wordings of one question differ in register more often than in content: a greeting or an opener
("hey quick q,", "ok so"), a politeness frame ("could you please tell me", "I was wondering"), a
sign-off ("thanks!"), contractions, a mistyped word. None of these changes what is asked, yet each
moves the embedding and the verifier's word overlap. `canonical` removes them, from rules of general
English (never read off evaluation rows):

- register at the start (greetings, discourse markers, politeness frames) and at the end (thanks,
  please), repeatedly, unless nothing would be left (a bare "hi" stays "hi");
- contractions expanded ("what's" -> "what is", "don't" -> "do not");
- typos corrected: a lower-case, letters-only word of 4 to 20 letters that is no known word (the
  embedding model's whole-word vocabulary, WordNet's lemmas and irregular forms, or either with a
  regular ending where English would put it: "bake-d", never "pun-d") becomes the known word one edit
  away; of several, the likeliest slip (two neighbours swapped, then a letter left out, a wrong letter,
  a letter too many), then the most frequent (the vocabulary's order). Words with capitals or digits
  are never touched: a name or a number must never turn into another.

The guards (gateway/cache/guards.py) read the text as `corrected` returns it, case and punctuation kept:
names and numbers are never rewritten, so a correction can cost a hit, never turn one fact into another.
Case is folded (the embedding model is uncased); a question ends in "?".
"""

import functools
import re
import unicodedata
from pathlib import Path

from gateway.cache.bundled_model import bundled_model_dir
from gateway.cache.text import QUESTION_WORDS

# Part of the embedding identity, which keys stored vectors (re-embedded at start when it changes) and the
# benches' embedding caches: change it with any rule below, or old vectors pass for new ones.
VERSION = "canonical-v4"  # v2 was a branch, never on main
WORDS_PATH = Path(__file__).with_name("english_words.txt")
MIN_CORRECTED_LENGTH = 4
MAX_CHARS = 2048  # a longer text is a document, not a question: embedded as written (and never windowed twice)
# Past this many unknown words (a code listing, another language, noise) the rest stays as typed: each costs
# a few hundred look-ups, and a short message is read on the event loop (gateway/cache/reading.py).
MAX_CORRECTIONS = 8
MAX_CORRECTED_LENGTH = 20  # no everyday word is longer
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})  # noqa: RUF001 typographic quotes are what this folds
_SPACE = re.compile(r"\s+")
_EDGE = " \"'`.,;:!?¿¡-–—…"  # noqa: RUF001 the dashes and ellipsis are meant
_SEP = r"(?:\s*[,!.:;?\-–—…]+\s*|\s+)"  # noqa: RUF001 what ends an opener: punctuation (dashes meant) or a space
_GREETED = r"(?:there|all|everyone|folks|guys|team|again)\b"  # "hello there": the whole greeting, never "hello" alone
# Greetings, asking leave to ask and apologies, which say nothing of the question or of what came before it.
# Politeness frames and discourse markers ("ok,", "so", "and" before a question word, a bare "please") go too, but
# they may tie the question to the conversation ("and how much is it?"), so gateway/cache/dependence.py keeps them.
_GREETINGS = (
    r"(?:hi|hello|hey|hiya|howdy|greetings|yo)(?:\s+" + _GREETED + r"|(?!\s+" + _GREETED + r"))" + _SEP + r"|"
    r"good\s+(?:morning|afternoon|evening|day)" + _SEP + r"|"
    r"(?:morning|afternoon|evening)\s*[,!.:;\-–—…]+\s*|"  # noqa: RUF001 the dashes and ellipsis are meant
    r"(?:(?:just\s+)?(?:a\s+)?(?:quick|random|silly|simple|small)\s+(?:question|q)|one\s+more\s+(?:question|thing)"
    r"|(?:i\s+)?(?:have|got)\s+a\s+(?:quick\s+)?question|sorry\s+to\s+bother(?:\s+you)?(?:\s*,?\s*but\b)?"
    r"|excuse\s+me)" + _SEP + r"|"
    # Asking leave to ask, only as a sentence of its own ("Can I ask something?", never "Can I ask my landlord").
    r"(?:(?:(?:have\s+you\s+)?got|(?:do\s+)?you\s+have)\s+a\s+(?:sec|second|minute|moment)"
    r"|(?:can|could|may)\s+i\s+ask(?:\s+you)?(?:\s+(?:something|a\s+(?:quick\s+)?question))?"
    r"|(?:a\s+)?question\s+for\s+you|(?:thanks|thank\s+you)\s+in\s+advance)\s*[,!.:;?\-–—…]+\s*|"  # noqa: RUF001
    # An apology opens a clause of its own ("sorry if this is basic, but"): only the whole of it goes.
    r"sorry\s*[,!.:;\-–—…]+\s*|sorry\s+if\s+this\s+is\s+(?:a\s+)?(?:basic|dumb|stupid|silly|obvious|naive)"  # noqa: RUF001 the dashes and ellipsis are meant
    r"(?:\s+question)?\s*,?\s*but\s+"
)
# Politeness frames: "could you tell me", "I was wondering", "can you explain". Unlike a greeting, the verb may be
# the request itself, about what came before ("can you explain that?", "tell me more").
_POLITENESS = (
    r"(?:(?:could|can|would|will)\s+(?:you|someone|anyone)\s+(?:please\s+|kindly\s+)?"
    r"(?:tell|let)\s+me(?:\s+know)?|please\s+(?:tell|let)\s+me(?:\s+know)?|"
    r"(?:could|can|would)\s+you\s+(?:please\s+)?(?:explain|clarify)(?:\s+to\s+me)?|please\s+(?:explain|clarify)"
    r"|i\s+(?:was|am)\s+(?:just\s+)?wondering|i\s+wonder|just\s+wondering|"
    r"i\s+(?:would|want|need)\s+(?:like\s+)?to\s+know|do\s+you\s+(?:happen\s+to\s+)?know|does\s+anyone\s+know|"
    r"(?:can|could)\s+you\s+(?:please\s+)?help\s+me(?:\s+(?:with|understand))?|help\s+me\s+understand|"
    r"any\s+idea)" + _SEP
)
_DISCOURSE = (
    r"please" + _SEP + r"|"  # a bare "please" opens requests that lean on what came before ("please give me 20 more")
    r"(?:ok|okay|alright|right|so|well|um+|uh+|hmm+|oh|ah|anyway|basically|btw)\s*[,!.:;\-–—…]+\s*|"  # noqa: RUF001 the dashes and ellipsis are meant
    r"(?:ok|okay|um+|uh+|so|alright)\s+(?=so\b|basically\b)|so\s+basically\s+|"
    r"(?:so|ok|okay|and|but)\s+(?=(?:how|what|why|when|where|who|which|is|are|can|could|do|does|did|will|would|should|if)\b)"
)
_OPENERS = re.compile(r"^(?:" + _GREETINGS + r"|" + _POLITENESS + r"|" + _DISCOURSE + r")")
_GREETING = re.compile(r"^(?:" + _GREETINGS + r")")
_CLOSERS = re.compile(
    r"(?:[,.!;:\-–—]\s*|\s+)(?:thanks|thank\s+you|thx|ty|cheers|please|pls|plz|thanks\s+in\s+advance|"  # noqa: RUF001 the dashes and ellipsis are meant
    r"thank\s+you\s+in\s+advance|many\s+thanks|appreciate\s+it|any\s+help\s+appreciated)(?:\s+(?:so\s+much|a\s+lot))?"
    r"\s*[.!]*$"
)
_CONTRACTIONS = {
    "won't": "will not",
    "can't": "cannot",
    "shan't": "shall not",
    "ain't": "is not",
    "let's": "let us",
    "i'm": "i am",
    "y'all": "you all",
}
_IS_AFTER = frozenset(
    ["what", "that", "it", "there", "who", "where", "how", "here", "he", "she", "this", "when", "why", "which"]
)
_SUFFIXES = {"n't": " not", "'re": " are", "'ve": " have", "'ll": " will", "'d": " would"}
# A lower-case ASCII word standing alone: not part of a name ("Chase"), a code ("abc123"), a contraction.
_PLAIN_LOWER_WORD = re.compile(rf"(?<![\w'])[a-z]{{{MIN_CORRECTED_LENGTH},{MAX_CORRECTED_LENGTH}}}(?![\w'])")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_REGULAR_ENDINGS = ("s", "es", "ed", "d", "ing", "er", "ers", "est", "ly", "ness", "ment", "able")


@functools.lru_cache(maxsize=1)
def vocabulary() -> dict[str, int]:
    """Known word -> rank (lower is more frequent): the embedding model's whole words in its vocabulary's
    order (roughly by frequency), then WordNet's (gateway/cache/english_words.txt) after all of them."""
    ranks: dict[str, int] = {}
    for line in (bundled_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines():
        if line.isalpha() and line.isascii() and line.islower():
            ranks.setdefault(line, len(ranks))
    for line in _wordnet_lines():
        ranks.setdefault(line, len(ranks))
    return ranks


@functools.lru_cache(maxsize=1)
def wordnet_words() -> frozenset[str]:
    return frozenset(_wordnet_lines())


@functools.lru_cache(maxsize=1)
def _wordnet_lines() -> tuple[str, ...]:
    """The shipped word list in its order, read once for both the vocabulary and the set."""
    return tuple(line for line in WORDS_PATH.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))


def canonical(text: str) -> str:
    """`text` in canonical form (the module's docstring); a text over MAX_CHARS as written."""
    return text if len(text) > MAX_CHARS else form_of(corrected(text))


def corrected(text: str) -> str:
    """`text` with its slips of the keyboard corrected and nothing else rewritten: case, register and
    punctuation kept, so the guards can read names and numbers (never corrected) as written; a text over
    MAX_CHARS as written."""
    if len(text) > MAX_CHARS:
        return text
    return _correct_typos(unicodedata.normalize("NFKC", text).translate(_QUOTES))


def form_of(corrected_text: str) -> str:
    """The canonical form of a text `corrected` returned (canonical() of the text it corrected)."""
    if len(corrected_text) > MAX_CHARS:
        return corrected_text
    written = _SPACE.sub(" ", corrected_text).strip().casefold()
    form = _expand_contractions(_strip_register(written.strip(_EDGE))).strip(_EDGE) or written
    return form + _ending(written, form)


def _ending(written: str, form: str) -> str:
    """A question ends in "?" however it was written (the mark moves the embedding, and a typed question often
    lacks it); anything else keeps its own full stop or exclamation mark."""
    if "?" in written or form.split(" ", 1)[0] in QUESTION_WORDS:
        return "?"
    return written[-1] if written[-1:] in (".", "!") and form[-1:] not in (".", "!") else ""


def without_greetings(text: str) -> str:
    """`text` (case folded) less the greetings and apologies it opens with ("hey there -", "question for you:",
    "sorry if this is basic, but"), as written where nothing else would be left."""
    written = _SPACE.sub(" ", text).strip().casefold()
    rest = written
    while (stripped := _GREETING.sub("", rest, count=1).strip(_EDGE)) and stripped != rest:
        rest = stripped
    return rest or written


def _strip_register(text: str) -> str:
    while True:
        stripped = _CLOSERS.sub("", _OPENERS.sub("", text, count=1), count=1).strip(_EDGE)
        if stripped == text or not stripped:
            return text
        text = stripped


def _expand_contractions(text: str) -> str:
    def expand(match: re.Match) -> str:
        word = match.group(0)
        if word in _CONTRACTIONS:
            return _CONTRACTIONS[word]
        head, _, tail = word.partition("'")
        if tail == "s":
            return f"{head} is" if head in _IS_AFTER else word  # else a possessive: "the bank's"
        suffix = "n't" if head.endswith("n") and tail == "t" else f"'{tail}"
        if suffix == "n't":
            return head[:-1] + " not"
        return head + _SUFFIXES[suffix] if suffix in _SUFFIXES else word

    return re.sub(r"[a-z]+'[a-z]+", expand, text)


def _correct_typos(text: str) -> str:
    known, budget = vocabulary(), [MAX_CORRECTIONS]

    def correct(match: re.Match) -> str:
        word = match.group(0)
        if budget[0] <= 0 or _known(word, known):
            return word
        budget[0] -= 1
        return _nearest(word, known) or word

    return _PLAIN_LOWER_WORD.sub(correct, text)


def base_form(word: str) -> str:
    """A plural's last "s" dropped; "-ing" and "-ed" undone to the commoner known word ("taking" -> "take",
    "stopped" -> "stop", "cancelling" -> "cancel"). For comparing two questions' words, where "bus" -> "bu" harms
    nothing."""
    if len(word) > 5 and word.endswith("ing"):
        stem = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        stem = word[:-2]
    else:
        return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
    known = vocabulary()
    options = [c for c in (stem, stem + "e") if c in known]
    if not options and stem[-1] == stem[-2] and stem[-1] not in "aeiou" and stem[:-1] in known:
        options.append(stem[:-1])  # stopped, running, cancelling
    return min(options, key=known.__getitem__) if options else word


def _known(word: str, known: dict[str, int]) -> bool:
    """A known word, or one with a regular ending on a known base as English spells it: "baked" is "bake" +
    "d", never "pun" + "d" ("pund" is a slip of "pound"); "stopped", "tried", "making", "happily"."""
    if word in known:
        return True
    return any(word.endswith(ending) and _inflects(word[: -len(ending)], ending, known) for ending in _REGULAR_ENDINGS)


def _inflects(base: str, ending: str, known: dict[str, int]) -> bool:
    if len(base) < 3:
        return False
    if ending == "d":  # only after a silent e: bake-d
        return base.endswith("e") and base in known
    if ending in ("s", "es"):  # tries: try
        return base in known or (base.endswith("i") and base[:-1] + "y" in known)
    # A three-letter base outside WordNet is an abbreviation ("wta"), not a word to derive from ("wtaer").
    return (
        (base in known and (len(base) > 3 or base in wordnet_words()))
        or (ending != "ing" and base.endswith("i") and base[:-1] + "y" in known)  # tried, happily
        or (ending[0] in "aei" and base + "e" in known)  # making, usable, later
        or (len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeiou" and base[:-1] in known)  # stopped
    )


def _nearest(word: str, known: dict[str, int]) -> str | None:
    """The likeliest intended word: by the kind of slip first (two neighbours swapped keeps every letter
    typed, then a letter left out, a wrong letter, a letter too many), then by frequency."""
    found = _nearest_known(word, known)
    if found:
        return found
    # An inflected form: the slip is in its base ("caolries" -> "calories", "ccumbers" -> "cucumbers").
    for ending in _REGULAR_ENDINGS:
        base = word[: -len(ending)]
        if word.endswith(ending) and len(base) >= MIN_CORRECTED_LENGTH and base not in known:
            found = _nearest_known(base, known)
            if found:
                return found + ending
    return None


def _nearest_known(word: str, known: dict[str, int]) -> str | None:
    for kind in _edits(word):
        # Known as it stands: checking each of ~50 edits a letter for an inflection too costs ten times more.
        found = [c for c in kind if c in known and len(c) >= 3]
        if found:
            return min(found, key=lambda c: (known[c], c))
    return None


def _edits(word: str) -> tuple[set[str], ...]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    left_out = {a + c + b for a, b in splits for c in _LETTERS}
    wrong = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    too_many = {a + b[1:] for a, b in splits if b}
    return tuple(kind - {word} for kind in (swapped, left_out, wrong, too_many))
