"""Opposites: antonyms (from WordNet, shipped in antonyms.txt) and scope words (all/some, before/after).

"Is it cheap?" and "Is it expensive?" sit side by side in embedding space. A pair is opposed when one
question says a word, the other its opposite, and neither says both: a word merely missing from one
side ("Can I return items?" / "Can I return all items?") is left to the verifier, and a question that
names both ("hot or cold?") contradicts nothing. Inflections find their lemma ("increased" ->
"increase", "worse" -> "bad") by WordNet's own suffix rules and the irregular forms the shipped file
lists, so "increasing" and "increased" never trip anything. A verb and its "un-" form ("freeze"/"unfreeze",
"install"/"uninstall", "mute"/"unmute") are opposed too: English makes such reversals freely, faster than
any word list. So are two words that differ only by opposite prefixes: "online"/"offline", "prepaid"/"postpaid",
"indoor"/"outdoor", "overpaid"/"underpaid", "uphill"/"downhill" (WordNet lacks many: "offline" is in no list the
gateway has). Neither word need be known: a question never says "outstall", so "install" opposes nothing.
And a word against the same word negated by a prefix: "peak"/"off-peak", "refundable"/"non-refundable",
"in-state"/"out-of-state".
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from gateway.cache.text import STOPWORDS, stem

ANTONYMS_PATH = Path(__file__).with_name("antonyms.txt")
# WordNet's detachment rules (morphy): suffix -> replacement, tried until a known lemma comes out.
_SUFFIX_RULES = (
    ("ies", "y"),
    ("es", "e"),
    ("es", ""),
    ("s", ""),
    ("ed", "e"),
    ("ed", ""),
    ("ing", "e"),
    ("ing", ""),
    ("er", ""),
    ("est", ""),
    ("er", "e"),
    ("est", "e"),
    ("ly", ""),
)
_BOUNDS = frozenset({"at-least", "or-more", "at-most", "or-less", "or-fewer"})  # its second word is read as it
_NOT_REVERSALS = frozenset({"unless", "underneath", "unto"})  # function words that begin with "un"
_PREFIX_PAIRS = (("on", "off"), ("up", "down"), ("over", "under"), ("in", "out"), ("pre", "post"))
_OPPOSITE_PREFIX = {one: other for pair in _PREFIX_PAIRS for one, other in (pair, pair[::-1])}
MIN_PREFIXED_REST = 3  # "offset" / "onset"; "into", "upon", "often" have less after their prefix
# A prefix that negates the word after it: "off-peak", "non-refundable", "non smoking", "nonresident" ("anti-" takes
# a stance rather than negating: "anti-Trump").
_HYPHEN_NEGATED = re.compile(r"\b(?:non[- ]?|off-|out-of-)([a-z]{3,})\b")
# "non-stop" runs on, negating nothing; "nonsense", "nonprofit" and "nonetheless" are words of their own.
_NOT_NEGATED = frozenset(stem(w) for w in ("stop", "sense", "profit", "etheless"))
# Scope: which part of a set or of a time line is asked about. Each row: (one side, the other side).
SCOPE = (
    (
        frozenset({"all", "every", "everything", "everyone", "everybody", "entire", "whole", "always"}),
        frozenset(
            {
                "some",
                "several",
                "few",
                "part",
                "partial",
                "partially",
                "sometimes",
                "certain",
                "any",
                "anyone",
                "anybody",
                "anything",
                "only",
            }
        ),
    ),
    (
        frozenset({"before", "prior", "earlier", "beforehand", "pre"}),
        frozenset({"after", "afterwards", "later", "following", "post"}),
    ),
    (frozenset({"within", "during", "inside", "under"}), frozenset({"after", "beyond", "outside", "past", "over"})),
    (
        frozenset({"include", "includes", "included", "including", "inclusive"}),
        frozenset({"exclude", "excludes", "excluded", "excluding", "exclusive", "except", "excepting"}),
    ),
    (frozenset({"least", "fewest", "minimum", "min", "lowest"}), frozenset({"most", "maximum", "max", "highest"})),
    # A bound, read as one phrase: "at least the minimum" / "at most the minimum" name "minimum" on both sides.
    (frozenset({"at-least", "or-more"}), frozenset({"at-most", "or-less", "or-fewer"})),
    (frozenset({"over", "above", "exceeding", "more"}), frozenset({"under", "below", "beneath", "less"})),
)


@dataclass(frozen=True)
class Lexicon:
    antonyms: dict[str, frozenset[str]]
    irregular: dict[str, tuple[str, ...]]  # inflected form -> its lemmas

    def lemmas(self, word: str) -> tuple[str, ...]:
        """The lexicon's lemmas `word` may be a form of (none for a word without antonyms): the word
        itself ("slowly"), its irregular lemmas ("worse" -> "bad"), and its base by suffix ("slow")."""
        found = [word] if word in self.antonyms else []
        found += self.irregular.get(word, ())
        for suffix, replacement in _SUFFIX_RULES:
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                base = word[: -len(suffix)] + replacement
                if suffix in ("ed", "ing", "er", "est") and base not in self.antonyms and base[-1:] == base[-2:-1]:
                    base = base[:-1]  # "stopped" -> "stop", "bigger" -> "big"
                if base in self.antonyms:
                    found.append(base)
                    break
        return tuple(found)


@cache
def lexicon(path: Path = ANTONYMS_PATH) -> Lexicon:
    antonyms: dict[str, frozenset[str]] = {}
    irregular: dict[str, tuple[str, ...]] = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        head, *rest = line.split()
        if head.startswith("="):
            irregular[head[1:]] = tuple(rest)
        else:
            antonyms[head] = frozenset(rest)
    return Lexicon(antonyms, irregular)


_DIMINISHERS = frozenset({"least", "less", "lesser"})


def antonym_lemmas(tokens: list[str]) -> frozenset[str]:
    """The lemmas of `tokens` that have antonyms (`lemmas_at`)."""
    return frozenset(lemma for i in range(len(tokens)) for lemma in lemmas_at(tokens, i))


def lemmas_at(tokens: list[str], i: int) -> frozenset[str]:
    """The lemmas with antonyms of the word at `i`; after "least" / "less" its antonyms' ("the least expensive
    way" reads as "the cheapest way", and against "the most expensive" as its opposite)."""
    known = lexicon()
    lemmas = known.lemmas(tokens[i])
    if i and tokens[i - 1] in _DIMINISHERS:
        return frozenset(opposite for lemma in lemmas for opposite in known.antonyms[lemma])
    return frozenset(lemmas)


def antonyms_clash(query: frozenset[str], cached: frozenset[str]) -> bool:
    """One question has a word, the other its antonym, and neither has both."""
    antonyms = lexicon().antonyms
    only_cached = cached - query
    return any(antonyms[word] & only_cached for word in query - cached if not antonyms[word] & query)


def reversed_words(tokens: list[str]) -> frozenset[str]:
    """The words that `tokens` reverse with "un-" ("unfreeze" -> "freeze"), stemmed. A base shorter than four
    letters is left out ("unit", "union" and "until" reverse nothing), and so are function words ("unless")."""
    return frozenset(
        stem(t[2:])
        for t in tokens
        if t.startswith("un") and len(t) >= 6 and t not in STOPWORDS and t not in _NOT_REVERSALS
    )


def reversal_clash(
    query_reversed: frozenset[str],
    query_tokens: frozenset[str],
    cached_reversed: frozenset[str],
    cached_tokens: frozenset[str],
) -> bool:
    """One question says "unX" and the other "X" (stemmed tokens), and neither says both."""

    def one_way(
        reversed_: frozenset[str], own: frozenset[str], other_reversed: frozenset[str], other: frozenset[str]
    ) -> bool:
        return any(word in other and word not in own and word not in other_reversed for word in reversed_)

    return one_way(query_reversed, query_tokens, cached_reversed, cached_tokens) or one_way(
        cached_reversed, cached_tokens, query_reversed, query_tokens
    )


def prefixed_words(tokens: list[str]) -> frozenset[tuple[str, str]]:
    """(prefix, stemmed rest) of each word that begins with one of two opposite prefixes and has at least
    MIN_PREFIXED_REST letters after it: "offline" -> ("off", "line")."""
    found = set()
    for token in tokens:
        for prefix in _OPPOSITE_PREFIX:
            rest = token[len(prefix) :]
            if token.startswith(prefix) and len(rest) >= MIN_PREFIXED_REST and rest.isalpha():
                found.add((prefix, stem(rest)))
    return frozenset(found)


def prefix_clash(query: frozenset[tuple[str, str]], cached: frozenset[tuple[str, str]]) -> bool:
    """One question says a word with one prefix, the other the same word with the opposite prefix, and neither
    says both."""
    for prefix, rest in query - cached:
        opposite = (_OPPOSITE_PREFIX[prefix], rest)
        if opposite in cached and opposite not in query:
            return True
    return False


def hyphen_negated(lowered: str) -> frozenset[str]:
    """Stems of the words a prefix negates ("off-peak" -> "peak", "non-refundable", "non refundable" and
    "nonrefundable" -> "refundable"), less those the text also says plainly ("renewable and non-renewable")."""
    negated = _negated_stems(lowered)
    if not negated:
        return negated
    plain = {stem(w) for w in _HYPHEN_NEGATED.sub(" ", lowered).split()}
    return negated - plain


Negated = tuple[frozenset[str], frozenset[str], str]  # a question's hyphen_negated, its stems, its lower-cased text


def hyphen_clash(query: Negated, cached: Negated) -> bool:
    """One question negates a word with a prefix ("off-peak hours") and the other says the word and never
    negates it ("peak hours")."""
    for (negated, _, _), (_, tokens, lowered) in ((query, cached), (cached, query)):
        said = negated & tokens
        if said and not said <= _negated_stems(lowered):
            return True
    return False


def _negated_stems(lowered: str) -> frozenset[str]:
    return frozenset(stem(m.group(1)) for m in _HYPHEN_NEGATED.finditer(lowered)) - _NOT_NEGATED


_DETERMINERS = frozenset({"the", "a", "an", "my", "your", "his", "her", "our", "their", "its"})


def scope_words(tokens: list[str]) -> frozenset[str]:
    """The scope words of `tokens`, less idioms that scope nothing: "of all time", the "some" of "what are some
    good ...", which asks for examples ("are some items eligible?" does scope), "the only one", which
    names one ("can I only pay in cash?" does scope), and the "within" that asks for a period ("within how
    many days")."""
    idiom = {
        i
        for i, t in enumerate(tokens)
        if (t == "all" and tokens[i + 1 : i + 2] == ["time"])
        or (t == "some" and i > 1 and tokens[i - 1] == "are" and tokens[i - 2] in ("what", "which"))
        or (t == "only" and i > 0 and tokens[i - 1] in _DETERMINERS)  # "the only atheist", "an only child"
        # "Within how many days ...?" asks for the period that "within 30 days" would set.
        or (t == "within" and tokens[i + 1 : i + 2] in (["how"], ["what"], ["which"]))
    }
    bounds = {i + 1: f"{t}-{tokens[i + 1]}" for i, t in enumerate(tokens[:-1]) if f"{t}-{tokens[i + 1]}" in _BOUNDS}
    words = {bounds.get(i, t) for i, t in enumerate(tokens) if i not in idiom}
    return frozenset(w for side in SCOPE for group in side for w in group & words)


def scope_clash(query: frozenset[str], cached: frozenset[str]) -> bool:
    """For some scope row, one question uses only one side of it and the other only the other side."""
    for one, other in SCOPE:
        q_one, q_other, c_one, c_other = query & one, query & other, cached & one, cached & other
        if (q_one and not q_other and c_other and not c_one) or (q_other and not q_one and c_one and not c_other):
            return True
    return False
