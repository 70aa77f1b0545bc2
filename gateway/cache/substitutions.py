"""Substitutions: two questions that say the same words but one slot, and fill that slot differently.

"How do I clear the cache in chrome?" / "... in firefox?", "Is chocolate toxic to dogs?" / "... to cats?",
"Is the fee charged per transaction?" / "... per month?": the other guards look for named kinds of facts (a
capitalised name, a number, an antonym), and a lower-case product, an animal or a period is none of them. This
guard reads the two questions as an aligned diff of their content words (function words and register words
dropped, possessives read as their owner, numbers left to the numbers guard) and vetoes a minimal pair:
- one slot of at most two words replaced by words that name something else: not the same lemma, not one
  WordNet sense or a sense and its parent ("fee" / "charge", "fastest" / "quickest", "built" / "made": the shipped
  groups of gateway/cache/synonyms.txt), not a slip of the keyboard (one side no known word, at most two letters
  apart), not one scope class ("per" / "each"); siblings ("chrome" / "firefox", "dogs" / "cats") differ;
- a scope word one side adds or trades that restricts the answer ("only", "except", "total", "per", "first",
  "last", "either", "both", "neither"): "Can I return sale items?" / "Can I return only sale items?".
A paraphrase rewords more than one slot, so it is left to the verifier; so is a one-word insertion of another
kind ("in the app"). The diff is bounded: questions of more than MAX_WORDS content words are not compared.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path

from gateway.cache.canonical import vocabulary
from gateway.cache.quantities import ATTACHED_UNIT_WORDS, NUMBER_WORDS, UNIT_WORDS
from gateway.cache.text import STOPWORDS, stem

SYNONYMS_PATH = Path(__file__).with_name("synonyms.txt")
MAX_WORDS = 40
MAX_SLOT = 2  # words on each side of the one replaced slot
MIN_SHARED = 1  # content words both questions say: less is no minimal pair, just two short questions
_KEPT = frozenset({"some", "any", "each", "few", "more", "most", "only", "both", "all", "into"})
_REGISTER = frozenset(
    {"please", "thanks", "thank", "hey", "hi", "hello", "ok", "okay", "really", "actually", "basically", "exactly"}
    | {"know", "tell", "wondering", "wonder", "want", "like", "need", "able", "possible", "anyone", "someone"}
    | {"usually", "generally", "typically", "normally", "currently", "even", "still", "ever", "way", "guys"}
    | {"whats", "hows", "wheres", "whos", "im", "ive", "dont", "doesnt", "cant"}
    | {"something", "anything", "somewhere", "anywhere", "thing", "things", "stuff", "one"}  # stand for any noun
)
_FUNCTION = (STOPWORDS - _KEPT) | _REGISTER | {"not", "no", "than", "whether", "let", "there's"}
# A scope class: words that ask about the same part of a set or a time line. Trading classes, or adding one
# ("only sale items"), changes the answer. "all" / "every" / "some" / "any" alone are the scope guard's.
_SCOPE_CLASSES = {
    "per": "each",
    "each": "each",
    "every": "each",
    "apiece": "each",
    "total": "total",
    "overall": "total",
    "combined": "total",
    "altogether": "total",
    "only": "only",
    "solely": "only",
    "exclusively": "only",
    "except": "except",
    "excluding": "except",
    "besides": "except",
    "including": "including",
    "either": "either",
    "both": "both",
    "neither": "neither",
}
# An amount class: how much of a thing, or how many. Trading one for another ("half a cup" / "a quarter cup",
# "a partial refund" / "a full refund", "a single room" / "a double room") changes the answer; adding one alone
# often does not ("the whole world", "a whole chicken"), so only a trade counts.
_AMOUNT_CLASSES = {
    **dict.fromkeys(("whole", "entire", "full", "complete"), "whole"),
    **dict.fromkeys(("half", "quarter", "third", "partial", "partially", "part", "portion", "slice"), "part"),
    **dict.fromkeys(("single", "individual", "solo"), "one"),
    **dict.fromkeys(("double", "twin", "triple"), "multiple"),  # "a double room" / "a single room"
    **dict.fromkeys(("several", "multiple", "various", "numerous", "couple", "group", "family"), "several"),
}
_DIRECTIONS = frozenset({"into", "out-of", "off-of", "onto", "inbound", "outbound"})
_PREFIXES = frozenset(
    {"pre", "post", "re", "co", "sub", "mid", "non", "semi", "ex", "mis", "dis", "un", "over", "under"}
)
_MIN_TYPO_LENGTH = 4
_MAX_TYPO_LENGTH = 30  # the distance is quadratic in the words' length: a longer "word" is no typo


@dataclass(frozen=True)
class Related:
    """WordNet's everyday senses, each with its parents' words (gateway/cache/derive_synonyms.py)."""

    groups: dict[str, frozenset[int]]  # word -> the lines that hold it
    irregular: dict[str, tuple[str, ...]]  # "made" -> ("make",)
    not_nouns: frozenset[str]  # "include", "best": more often another part of speech

    def lines(self, word: str) -> frozenset[int]:
        return frozenset(line for base in self.bases(word) for line in self.groups.get(base, ()))

    def noun_like(self, word: str) -> bool:
        """A noun or a word WordNet does not know (a brand, a product): what names a thing. A compound is what
        its last part is ("regular-season" a season, "add-on" and "well-known" no thing)."""
        if "-" in word:
            word = word.rsplit("-", 1)[1]
            if word in _FUNCTION:
                return False
        return not any(base in self.not_nouns for base in self.bases(word))

    def bases(self, word: str) -> tuple[str, ...]:
        """`word` and the lemmas it may be a form of, by WordNet's irregular forms and suffix rules."""
        found = [word, *self.irregular.get(word, ())]
        if word in self.groups:
            return tuple(found)
        for suffix, replacement in _SUFFIX_RULES:
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                base = word[: -len(suffix)] + replacement
                found += [base, base[:-1]] if base[-1:] == base[-2:-1] else [base]  # "stopped" -> "stop"
        return tuple(found)


_SUFFIX_RULES = (
    *(("ies", "y"), ("es", ""), ("s", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")),
    *(("est", ""), ("est", "e"), ("er", ""), ("ly", "")),
)


@cache
def related_words(path: Path = SYNONYMS_PATH) -> Related:
    groups: dict[str, set[int]] = {}
    irregular: dict[str, tuple[str, ...]] = {}
    not_nouns = set()
    for number, line in enumerate(path.read_text().splitlines()):
        if not line or line.startswith("#"):
            continue
        head, *rest = line.split()
        if head.startswith("="):
            irregular[head[1:]] = tuple(rest)
        elif head.startswith("-"):
            not_nouns.add(head[1:])
        else:
            for word in (head, *rest):
                groups.setdefault(word, set()).add(number)
    return Related({w: frozenset(lines) for w, lines in groups.items()}, irregular, frozenset(not_nouns))


def slots(tokens: list[str], owned: frozenset[str] = frozenset(), lowered: str = "") -> tuple[str, ...]:
    """The content words of a question in order: what the diff aligns. Numbers and units are the quantity guards'
    ("350F" / "350 degrees Fahrenheit"); the words after "how" frame the question ("how long" / "how many days");
    "out of" and "off of" are directions, "out" and "off" alone particles ("find out"). `owned`: words another
    guard reads (the dates guard's "monday", "tomorrow"), so that switching that guard off lets them differ.
    A compound hyphenated in `lowered` (the question, casefolded) is one slot: "a regular-season game" / "a
    playoff series" trade one modifier, as "a regular season game" would trade two words for one."""
    found = []
    compounds = _hyphenated(lowered)
    skip = False
    for i, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        word = token.removesuffix("'s")
        if compounds and i + 1 < len(tokens) and f"{token}-{tokens[i + 1]}" in compounds:
            found.append(_singular(f"{token}-{tokens[i + 1]}".removesuffix("'s")))
            skip = True
            continue
        before = tokens[i - 1] if i else ""
        if word in ("out", "off") and tokens[i + 1 : i + 2] == ["of"]:
            word = f"{word}-of"
        framed = before == "how" or (before in ("many", "much") and tokens[i - 2 : i - 1] == ["how"])
        if word in _FUNCTION or word in owned or "'" in word or _number(word) or framed:
            continue
        if word in UNIT_WORDS and (word not in ATTACHED_UNIT_WORDS or _number(before)):
            continue
        found.append(_singular(word))
    return tuple(found)


_HYPHENATED = re.compile(r"\b[a-z]+-[a-z]+\b")


def _hyphenated(lowered: str) -> frozenset[str]:
    """Two letter words joined by a hyphen ("regular-season", "carry-on"); none in most questions."""
    return frozenset(_HYPHENATED.findall(lowered)) if "-" in lowered else frozenset()


def _singular(word: str) -> str:
    """ "dogs" -> "dog", so that a plural aligns with its singular ("my dog" / "dogs"); "glass", "bus" stay."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


def _number(word: str) -> bool:
    return word in NUMBER_WORDS or any(c.isdigit() for c in word)


def substitution(query: tuple[str, ...], cached: tuple[str, ...]) -> str | None:
    """Which guard a minimal pair trips ("scope", "order" or "entities"), None if the two are no minimal pair
    or their differing words name the same thing."""
    if query == cached or len(query) > MAX_WORDS or len(cached) > MAX_WORDS:
        return None
    changes = [op for op in SequenceMatcher(None, query, cached, autojunk=False).get_opcodes() if op[0] != "equal"]
    removed = [w for _, i1, i2, _, _ in changes for w in query[i1:i2]]
    added = [w for _, _, _, j1, j2 in changes for w in cached[j1:j2]]
    if len(removed) + len(added) > 2 * MAX_SLOT or len(query) - len(removed) < MIN_SHARED:
        return None
    traded = ({_SCOPE_CLASSES.get(w) for w in removed} ^ {_SCOPE_CLASSES.get(w) for w in added}) - {None}
    if traded and traded != {"each"}:  # "every item" / "items" is the scope guard's one-sided rule
        return "scope"
    amounts = ({_AMOUNT_CLASSES.get(w) for w in removed} - {None}, {_AMOUNT_CLASSES.get(w) for w in added} - {None})
    if all(amounts) and amounts[0] != amounts[1]:
        return "scope"
    if len(changes) != 1 or changes[0][0] != "replace" or any(_related(a, b) for a in removed for b in added):
        return None
    if set(removed + added) & _DIRECTIONS:
        return "order"  # "into my savings" / "out of my savings"
    lexicon = related_words()
    # Trading a verb or an adjective ("enable" / "turn on", "best" / "most useful") rewords more often than not.
    return "entities" if all(lexicon.noun_like(w) for w in removed + added) else None


@dataclass(frozen=True)
class SlotDifference:
    """What the aligned diff of two questions' content words changes, for the verifier's features."""

    changes: int  # runs of words replaced, added or dropped
    unrelated: tuple[str, ...]  # changed words that no changed word of the other side is related to
    minimal_pair: bool  # one run changed, and it holds an unrelated word: the shape of a trap, not of a rewording


def slot_difference(query: tuple[str, ...], cached: tuple[str, ...]) -> SlotDifference:
    if len(query) > MAX_WORDS or len(cached) > MAX_WORDS:
        query, cached = query[:MAX_WORDS], cached[:MAX_WORDS]
    changes = [op for op in SequenceMatcher(None, query, cached, autojunk=False).get_opcodes() if op[0] != "equal"]
    removed = [w for _, i1, i2, _, _ in changes for w in query[i1:i2]]
    added = [w for _, _, _, j1, j2 in changes for w in cached[j1:j2]]
    unrelated = tuple(
        [w for w in removed if not any(_related(w, o) for o in added)]
        + [w for w in added if not any(_related(w, o) for o in removed)]
    )
    return SlotDifference(len(changes), unrelated, len(changes) == 1 and bool(unrelated))


def _related(one: str, other: str) -> bool:
    if stem(one) == stem(other) or _SCOPE_CLASSES.get(one, one) == _SCOPE_CLASSES.get(other, other):
        return True
    if _part_of(one, other) or _part_of(other, one):  # "self-harm" / "self harm", "flu-like" / "flu"
        return True
    shorter, longer = sorted((one, other), key=len)
    if len(shorter) >= 5 and longer.startswith(shorter[:-1]):  # "cancel" / "cancellation", "install(ation)"
        return True
    if _typo(one, other):
        return True
    if _prefixed(one, other) or _prefixed(other, one):  # "preseason" / "season", "reopen" / "open"
        return False
    lexicon = related_words()
    return bool(lexicon.lines(one) & lexicon.lines(other))


def _prefixed(word: str, base: str) -> bool:
    """`word` is `base` with a prefix that makes it another thing or act (WordNet files "preseason" under "season")."""
    return len(base) >= _MIN_TYPO_LENGTH and word.endswith(base) and word[: -len(base)].rstrip("-") in _PREFIXES


def _part_of(word: str, compound: str) -> bool:
    return "-" in compound and word in compound.split("-")


def _typo(one: str, other: str) -> bool:
    """One word a slip of the other: at most two letters apart, and not both of them known words."""
    if not _MIN_TYPO_LENGTH <= min(len(one), len(other)) <= max(len(one), len(other)) <= _MAX_TYPO_LENGTH:
        return False
    if abs(len(one) - len(other)) > 2:
        return False
    known = vocabulary()
    return not (one in known and other in known) and _distance(one, other) <= 2


def _distance(one: str, other: str) -> int:
    """Edit distance with adjacent swaps (optimal string alignment); words only, so short."""
    previous2: list[int] = []
    previous = list(range(len(other) + 1))
    for i, a in enumerate(one, 1):
        current = [i] + [0] * len(other)
        for j, b in enumerate(other, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == other[j - 2] and one[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
