"""Guards: hard vetoes against answering a question that is close in meaning but not the same.

Embeddings place "How do I lose 10 kg?" and "How do I lose 20 kg?" side by side; no cosine
threshold tells them apart. A guard compares the facts two questions pin down (numbers,
dates, negation, named entities and code identifiers) and rejects the candidate when they
differ, whatever its similarity. Each guard is switched per category by the policy.

The guards compare what each question states, never its wording: a fact counts as present
in the other question when the other question contains the same token in any case or
inflection, so "python" and "Python" or "Trump" and "Trump's" do not trip them.
"""

import re
from dataclasses import dataclass
from typing import Protocol

from gateway.cache.text import stem, words

_NUMBER_WORDS = {
    "zero": "0", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13",
    "fourteen": "14", "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18",
    "nineteen": "19", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
    "seventy": "70", "eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000",
    "million": "1000000", "billion": "1000000000", "first": "1", "second": "2", "third": "3",
    "half": "0.5", "twice": "2", "double": "2", "triple": "3",
}  # "one" is left out: "which one is better?" states no quantity.
_DIGITS = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(?:st|nd|rd|th|k\b)?", re.IGNORECASE)
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b")
_MONTHS = {
    "january": "jan", "jan": "jan", "february": "feb", "feb": "feb", "march": "mar", "april": "apr",
    "apr": "apr", "may": "may", "june": "jun", "jun": "jun", "july": "jul", "jul": "jul",
    "august": "aug", "aug": "aug", "september": "sep", "sept": "sep", "sep": "sep", "october": "oct",
    "oct": "oct", "november": "nov", "nov": "nov", "december": "dec", "dec": "dec",
}
_AMBIGUOUS_MONTHS = {"may", "march"}  # modal verb / verb unless written next to a number
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_RELATIVE_DAYS = {"today", "tonight", "tomorrow", "yesterday", "now", "currently", "recently"}
_PERIODS = {"week", "weekend", "month", "year", "night", "morning", "quarter", "decade", "century"}
_NEGATIONS = {"not", "no", "never", "without", "none", "nobody", "nothing", "nowhere", "neither",
              "nor", "cannot", "unable", "lack", "lacks", "hardly", "barely"}
_CAPITALISED = re.compile(r"(?<![\w'])([A-Z][\w'’&-]*)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"(]\s*)$")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,}s?\b")
_IDENTIFIER = re.compile(
    r"`[^`]+`"
    r"|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b"       # dotted: os.path, node.js
    r"|\b[A-Za-z]*_[\w]*\b"                        # snake_case, __init__
    r"|\b[a-z]+[A-Z]\w*\b"                         # camelCase, iPhone
    r"|\b[A-Za-z]+\d+[A-Za-z\d]*\b"                # alnum: mp3, gpt4, h1b, win10
    r"|\b[A-Za-z]\w*\(\)"                          # call: print()
    r"|(?<![\w+#])[A-Za-z](?:\+\+|#)"              # C++, C#, F#
)


class GuardSwitches(Protocol):
    numbers: bool
    dates: bool
    negation: bool
    entities: bool


@dataclass(frozen=True)
class Facts:
    """What a question pins down, extracted once per question."""

    numbers: frozenset[str]
    dates: frozenset[str]
    negated: bool
    entities: frozenset[str]
    tokens: frozenset[str]  # stemmed words, to look an entity up in the other question
    lowered: str


def extract_facts(text: str) -> Facts:
    tokens = words(text)
    return Facts(
        numbers=frozenset(_numbers(text, tokens)),
        dates=frozenset(_dates(text, tokens)),
        negated=any(t in _NEGATIONS or t.endswith("n't") for t in tokens),
        entities=frozenset(_entities(text)),
        tokens=frozenset(stem(t) for t in tokens),
        lowered=text.casefold(),
    )


def rejection(query: Facts, candidate: Facts, switches: GuardSwitches) -> str | None:
    """The name of the first guard the pair trips ("numbers", "dates", ...), None if all pass."""
    if switches.numbers and query.numbers != candidate.numbers:
        return "numbers"
    if switches.dates and query.dates != candidate.dates:
        return "dates"
    if switches.negation and query.negated != candidate.negated:
        return "negation"
    if switches.entities and (_missing_entities(query, candidate) or _missing_entities(candidate, query)):
        return "entities"
    return None


def _missing_entities(source: Facts, other: Facts) -> set[str]:
    return {e for e in source.entities if not _mentions(other, e)}


def _mentions(facts: Facts, entity: str) -> bool:
    if entity in facts.tokens:
        return True
    # Identifiers keep their punctuation ("node.js", "c++"): look for them verbatim.
    return not entity.isalnum() and entity in facts.lowered


def _numbers(text: str, tokens: list[str]) -> list[str]:
    found = []
    for match in _DIGITS.finditer(text):
        value = match.group(1).rstrip(",.").replace(",", "")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        if match.group(0).lower().endswith("k"):
            value = str(int(float(value) * 1000))
        found.append(value)
    found.extend(_NUMBER_WORDS[t] for t in tokens if t in _NUMBER_WORDS)
    return found


def _dates(text: str, tokens: list[str]) -> list[str]:
    found = [m.group(0).replace("/", "-").replace(".", "-") for m in _NUMERIC_DATE.finditer(text)]
    for i, token in enumerate(tokens):
        if token in _MONTHS:
            beside = tokens[max(i - 1, 0) : i + 2]
            if token not in _AMBIGUOUS_MONTHS or any(t[:1].isdigit() for t in beside):
                found.append(_MONTHS[token])
        elif token in _WEEKDAYS or token in _RELATIVE_DAYS:
            found.append(token)
        elif token in ("this", "next", "last", "past", "coming") and i + 1 < len(tokens) and tokens[i + 1] in _PERIODS:
            found.append(f"{token} {tokens[i + 1]}")
    return found


def _entities(text: str) -> list[str]:
    found = [stem(m.group(0).strip("`").casefold()) for m in _IDENTIFIER.finditer(text)]
    found.extend(stem(m.group(0).casefold()) for m in _ACRONYM.finditer(text) if m.group(0) != "I")
    capitalised = [m for m in _CAPITALISED.finditer(text) if not _SENTENCE_START.search(text[: m.start()])]
    inner_words = len(words(text)) - 1
    # Title Case Questions capitalise every word; capitals then say nothing about names.
    if inner_words > 0 and len(capitalised) / inner_words < 0.6:
        found.extend(stem(w) for m in capitalised for w in words(m.group(0)) if w != "i")
    # Month and weekday names are capitalised but belong to the dates guard.
    return [e for e in found if e and e not in _MONTHS and e not in _WEEKDAYS]
