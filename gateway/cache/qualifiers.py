"""One question is the other plus a qualifier: "Does Best Buy price match Amazon?" / "... after the purchase?".

The opposition guards (gateway/cache/oppositions.py) need a word on each side ("before" / "after"). A
qualifier said on one side only narrows the question all the same:
- a condition: "after the purchase", "before check-in", "excluding delivery", "until Friday";
- an amount where the other asks whether: "How much chocolate is toxic?" / "Is chocolate toxic?";
- acting on the thing the other asks about: "How do I change the undo shortcut?" / "What's the undo
  shortcut?";
- the end of an event where the other names neither end: "When does the ferry arrive?" / "When is the
  ferry?". Asked without a verb, when something is means when it starts ("When is the concert?" is
  when it begins), so adding "leave", "start" or "open" asks the same, and "arrive", "end" or "close"
  asks something else.

- a condition clause: "How do I cancel my gym membership if I joined through my insurance?" / "How do I
  cancel my gym membership?". Only "if" / "unless" clauses with something of their own to say count: "if
  so", "if you don't mind", "sorry if this is basic", and the if that means whether ("how can I tell if
  it's broken") qualify nothing.

- a place, a time, a kind or a party as a phrase of its own: "Is there a fee to transfer money to my checking
  account?" / "... at another bank?", "How many teams make the playoffs?" / "How many teams from each conference
  make the playoffs?". Only where the rest is the other question word for word (added_phrase), and not a phrase
  of manner or emphasis ("in detail", "in general", "in the world").

A rewording changes words on both sides. A question that only adds words to the other one (the other
has no content word of its own) adds either an opener ("hey, quick q:", "Okay, slightly panicking:"),
said before the question's first question word and qualifying nothing, or words inside or after it.
Other added words ("really", "in the app", "accept returns of") are left to the verifier.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cached_property

from gateway.cache.text import QUESTION_WORDS, STOPWORDS, stem, words

# Words that attach a condition: a time relative to something, a period, what is counted in or out. An if-clause
# is as often a follow-up ("Is alcohol addictive? If yes, why?") as a condition, and is left to the verifier. Set
# words ("all", "every"), degree words ("more", "over") and the verb "include" ("Does my plan include
# roaming?") are as often emphasis or the question's own verb as a condition.
CONDITIONS = frozenset(
    {
        "before",
        "prior",
        "beforehand",
        "after",
        "afterwards",
        "later",
        "within",
        "during",
        "beyond",
        "until",
        "till",
        "including",
        "exclude",
        "excludes",
        "excluded",
        "excluding",
        "except",
        "excepting",
    }
)
_AMOUNT = frozenset({"much", "many"})
# The marked end of an event: a verbless "when is X" means its start.
# ("end" is left out: "How did India end up so populous?")
_ENDINGS = frozenset(
    {
        "arrive",
        "arrives",
        "arriving",
        "arrival",
        "land",
        "lands",
        "landing",
        "finish",
        "finishes",
        "close",
        "closes",
        "closing",
        "expire",
        "expires",
    }
)
_STARTS = frozenset(
    {
        "leave",
        "leaves",
        "depart",
        "departs",
        "departure",
        "start",
        "starts",
        "begin",
        "begins",
        "open",
        "opens",
        "opening",
    }
)
# Acting on a thing, where the other question asks about it: "How do I change the undo shortcut?" / "What's the
# undo shortcut?".
_OPERATIONS = frozenset(
    {
        "change",
        "changing",
        "set",
        "reset",
        "edit",
        "remove",
        "delete",
        "add",
        "disable",
        "enable",
        "customize",
        "customise",
        "modify",
        "update",
        "cancel",
        "replace",
        "rename",
        "move",
    }
)
_POLAR = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "can",
        "could",
        "does",
        "do",
        "did",
        "will",
        "would",
        "should",
        "may",
        "might",
        "has",
        "have",
        "must",
    }
)
_SIGNIFICANT_STOPWORDS = CONDITIONS | _AMOUNT
# A condition clause runs from "if" / "unless" to the next punctuation, "then" or question word ("If yes then which
# fields?").
_CLAUSE = re.compile(
    r"\b(?:if|unless)\b(.*?)(?=[,;:.?!()]|\b(?:then|what|which|how|why|where|when|who)\b|$)", re.IGNORECASE
)
# The word before an "if" that makes it "whether" ("tell if", "wondering if") or an apology ("sorry if").
_WHETHER = frozenset(
    {"know", "knows", "tell", "see", "check", "checking", "wonder", "wondering", "wondered"}
    | {"ask", "asking", "sure", "unsure", "determine", "find", "out", "figure", "decide", "matter"}
    | {"matters", "test", "verify", "confirm", "notice", "curious", "idea", "clue", "remember"}
    | {"learn", "say", "sorry", "apologies", "apologize", "forgive", "pardon", "excuse", "mind"}
    | {"what", "as"}
)
# What an aside's if-clause says ("if so", "if you don't mind", "if possible", "if anyone knows").
_ASIDE = frozenset(
    {"so", "yes", "no", "not", "any", "possible", "needed", "necessary", "applicable", "relevant"}
    | {"ever", "anything", "mind", "minding", "know", "knows", "anyone", "anybody", "someone"}
    | {"help", "please", "sense", "make", "makes", "ask", "asking", "okay", "ok", "matter"}
    | {"matters", "care", "course", "need", "able", "remember", "correctly", "recall", "wonder"}
    | {"curious", "allowed", "appropriate"}
)
# The prepositions that open a phrase narrowing a question ("at another bank", "for resale tickets"). "to" and
# "of" are left out: as often an infinitive or a part of the noun before ("questions to ask", "proud of").
_PHRASE_OPENERS = frozenset(
    {"at", "for", "from", "in", "on", "with", "without", "during", "by", "via", "under", "over", "into"}
    | {"outside", "inside", "near", "through", "across"}
)
_DETERMINERS = frozenset(
    {"a", "an", "the", "my", "your", "our", "his", "her", "their", "its", "this", "that", "these", "those"}
    | {"another", "each", "every", "some", "any", "other", "all"}
)
# Phrases of manner or emphasis ("in detail", "in simple terms", "in the world", "for good", "on earth"), and the
# channel a service is used through ("in the app", "on the website"), which rarely changes what is asked of it.
_MANNER = frozenset(
    {"general", "short", "brief", "detail", "fact", "particular", "advance", "simple", "term", "word", "nutshell"}
    | {"example", "step", "way", "sure", "real", "course", "someone", "somebody", "anyone", "me", "myself"}
    | {"yourself", "please", "layman", "plain", "order", "total", "world", "life", "earth", "good", "future"}
    | {"history", "universe", "english", "app", "website", "site", "online"}
)
_PHRASE_WORDS = 2  # content words the added phrase may hold
_PHRASE_LENGTH = 6  # its words in all: the preposition, determiners ("all the other"), the content words
_WORD_BEFORE = 24  # characters before an "if" that hold the word before it
MIN_WORDS = 3  # significant words the shorter question needs before another can be it plus a qualifier
_OPENER_LIMIT = 8  # words before the question's first question word that may be an opener


@dataclass(frozen=True)
class Wording:
    """A question's words that can qualify it (content words, condition and amount words) in order, where
    the question proper starts among them (after an opener), and whether it asks yes or no."""

    significant: tuple[str, ...]
    start: int
    polar: bool
    conditions: frozenset[str] = frozenset()  # what its if-clauses say, as stems

    @cached_property  # read several times per candidate pair (added_qualifier)
    def stems(self) -> frozenset[str]:
        return frozenset(_base(w) for w in self.significant)


def wording(text: str) -> Wording:
    tokens = words(text)
    # "Within how many days can I return it?" asks for the period; "within 30 days" would set one.
    significant = [
        w for i, w in enumerate(tokens) if _significant(w) and not (w in CONDITIONS and _asks(tokens[i + 1 : i + 2]))
    ]
    # The question starts at its first question word ("hey quick q, does ...", "um, is ..."), if one comes early.
    opener = next((i for i, w in enumerate(tokens[: _OPENER_LIMIT + 1]) if w in QUESTION_WORDS), None)
    start = sum(1 for w in tokens[: opener or 0] if _significant(w))
    return Wording(tuple(significant), start, opener is not None and tokens[opener] in _POLAR, _conditions(text))


def _conditions(text: str) -> frozenset[str]:
    said: set[str] = set()
    for clause in _CLAUSE.finditer(text):
        before = words(text[max(0, clause.start() - _WORD_BEFORE) : clause.start()])[-1:]  # not the whole prefix
        if before and before[0] in _WHETHER:
            continue
        said |= {
            _base(w) for w in words(clause.group(1)) if _significant(w) and w not in _ASIDE and not w.endswith("n't")
        }
    return frozenset(said)


def added_qualifier(query: Wording, cached: Wording) -> str | None:
    """ "scope" or "antonyms" when one question is the other plus such a qualifier, else None."""
    mine, theirs = query.stems, cached.stems
    if min(len(mine), len(theirs)) < MIN_WORDS:  # "How do I get my iCloud password?" is in most questions about it
        return None
    if _adds_condition(query, cached) or _adds_condition(cached, query):
        return "scope"
    if mine < theirs:
        return _qualifier(cached, query)
    if theirs < mine:
        return _qualifier(query, cached)
    return None


def _qualifier(longer: Wording, shorter: Wording) -> str | None:
    known = shorter.stems
    # An opening phrase with a time or inclusion word qualifies ("After the purchase, does ..."); other openers
    # ("Sorry if this is basic, but ...") do not.
    qualifying_opener = any(w in CONDITIONS for w in longer.significant[: longer.start])
    added = {
        w
        for i, w in enumerate(longer.significant)
        if _base(w) not in known and (i >= longer.start or qualifying_opener) and not _said_as_in(longer, i, known)
    }
    if added & CONDITIONS or (added & _AMOUNT and shorter.polar) or added & _OPERATIONS:
        return "scope"
    if added & _ENDINGS and not known & {_base(w) for w in _STARTS | _ENDINGS}:
        return "antonyms"
    return None


def _adds_condition(longer: Wording, shorter: Wording) -> bool:
    """`longer` is `shorter` (a word changed at most: "a 4 pound chicken" / "a 4 pound whole chicken") asked under a
    condition of its own that `shorter` neither sets nor mentions."""
    if not longer.conditions or shorter.conditions or longer.conditions <= shorter.stems:
        return False
    main = longer.stems - longer.conditions
    return len(shorter.stems - main) <= 1 and len(main - shorter.stems) <= 1


def _said_as_in(longer: Wording, at: int, known: frozenset[str]) -> bool:
    """ "during winter" where the other says "in winter": the period both name, with another preposition."""
    following = longer.significant[at + 1 : at + 2]
    return longer.significant[at] == "during" and bool(following) and _base(following[0]) in known


def _asks(following: list[str]) -> bool:
    return bool(following) and following[0] in ("how", "when", "what", "which")


def _significant(word: str) -> bool:
    """Content, condition and amount words; "what's", "it's" are their stop words."""
    return word in _SIGNIFICANT_STOPWORDS or (word not in STOPWORDS and word.partition("'")[0] not in STOPWORDS)


def _base(word: str) -> str:
    """The word less its inflection, plurals of short words included ("dogs" / "dog", which stem keeps apart)."""
    word = stem(word)
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def added_phrase(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    """`longer` is `shorter` word for word (base forms, gateway/cache/swaps.py's sequence) plus one phrase: a
    preposition, determiners, then one or two content words none of them manner or emphasis."""
    if not 2 <= len(longer) - len(shorter) <= _PHRASE_LENGTH or not _PHRASE_OPENERS.intersection(longer):
        return False
    if not set(shorter) <= set(longer) or sum(w not in STOPWORDS for w in shorter) < MIN_WORDS:
        return False
    changes = [op for op in SequenceMatcher(None, shorter, longer, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(changes) != 1 or changes[0][0] != "insert":
        return False
    _, _, _, start, end = changes[0]
    phrase = list(longer[start:end])
    if phrase[0] not in _PHRASE_OPENERS:
        return False
    named = [w for w in phrase[1:] if w not in _DETERMINERS]
    return (
        len(phrase) - len(named) >= 1
        and 1 <= len(named) <= _PHRASE_WORDS
        and not any(w in STOPWORDS or w in _MANNER for w in named)
    )
