"""Guards: hard vetoes against answering a question that is close in meaning but not the same.

Embeddings place "How do I lose 10 kg?" and "How do I lose 20 kg?" side by side; no cosine
threshold tells them apart. A guard compares the facts two questions pin down and rejects the
candidate when they contradict each other, whatever its similarity: numbers, times of day
(gateway/cache/quantities.py), dates, units and currencies, negation, antonyms and scope words
(gateway/cache/oppositions.py), a qualifier one question adds to the other ("... after the purchase",
gateway/cache/qualifiers.py), argument order and whose it is (gateway/cache/roles.py), and named entities
and code identifiers. Each guard is switched per category by the policy.

The guards compare what each question states, never its wording: a fact counts as present
in the other question when the other question contains the same token in any case or
inflection, so "python" and "Python" or "Trump" and "Trump's" do not trip them.

Extraction runs in time linear in the text on any input (user text up to the message limit reaches
it): each regex is a single repeated character class or has bounded repeats, and every scan looks
at each character a bounded number of times.
"""

import re
from dataclasses import dataclass
from typing import Protocol

from gateway.cache import swaps
from gateway.cache.bindings import Bindings, bindings, bindings_clash
from gateway.cache.oppositions import (
    antonym_lemmas,
    antonyms_clash,
    hyphen_clash,
    hyphen_negated,
    prefix_clash,
    prefixed_words,
    reversal_clash,
    reversed_words,
    scope_clash,
    scope_words,
)
from gateway.cache.qualifiers import Wording, added_phrase, added_qualifier, wording
from gateway.cache.quantities import UNIT_WORDS, quantities_differ, read_quantities, times_differ
from gateway.cache.roles import (
    Roles,
    another_party,
    persons,
    persons_swapped,
    pronoun_roles,
    roles,
    roles_swapped,
)
from gateway.cache.substitutions import slots, substitution
from gateway.cache.text import QUESTION_WORDS, STOPWORDS, stem, words

_NUMERIC_DATE = re.compile(r"\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b")
_MONTHS = {
    "january": "jan",
    "jan": "jan",
    "february": "feb",
    "feb": "feb",
    "march": "mar",
    "april": "apr",
    "apr": "apr",
    "may": "may",
    "june": "jun",
    "jun": "jun",
    "july": "jul",
    "jul": "jul",
    "august": "aug",
    "aug": "aug",
    "september": "sep",
    "sept": "sep",
    "sep": "sep",
    "october": "oct",
    "oct": "oct",
    "november": "nov",
    "nov": "nov",
    "december": "dec",
    "dec": "dec",
}
_AMBIGUOUS_MONTHS = {"may", "march"}  # modal verb / verb unless written as a date (_WRITTEN_AS_DATE)
# "May 5", "5th of May", "March 2024", "March '15": the day or year right beside it. Not a clock time's digits
# ("before 10:00, may I water the lawn at 9:00?") nor a number across a comma ("In 2024, may I ...").
_WRITTEN_AS_DATE = re.compile(
    r"(?<![\d:.])\d{1,2}(?:st|nd|rd|th)?(?: of)? (may|march)\b|\b(may|march) '?\d{1,4}(?:st|nd|rd|th)?\b(?![:.]\d)",
    re.IGNORECASE,
)
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
_RELATIVE_DAYS = {"today", "tonight", "tomorrow", "yesterday", "now", "currently", "recently"}
_PERIODS = {
    "week",
    "weekend",
    "month",
    "year",
    "night",
    "morning",
    "afternoon",
    "evening",
    "quarter",
    "decade",
    "century",
}
_DATE_WORDS = frozenset(_MONTHS) | _WEEKDAYS | _RELATIVE_DAYS
_TONIGHT = {"this evening": "tonight", "this night": "tonight"}  # one evening, however it is said
_TODAY = {"now": "today", "currently": "today"}  # "right now" and "at today's rate" ask about the same day
# ... but "for a few weeks now", "by now", "until now" name no day: a duration's end, said or left out alike.
_NOT_TODAY_BEFORE_NOW = frozenset(
    {"by", "until", "till", "til", "for", "from", "since", "just", "ago", "while", "long"}
    | {"minutes", "hours", "days", "weeks", "months", "years"}
)
# A statement before the question ends at a full stop, a colon or a dash (hyphen, en or em dash).
# Lookarounds, not "\s+-+\s+": a long run of spaces with no dash would be retried from each of them.
_LEAD_BREAK = re.compile(r"(?<=[.!:;])\s|(?<=\s)[-\u2013\u2014]+(?=\s)")
_ASKING = frozenset(QUESTION_WORDS) | {"can", "could", "do", "does", "is", "are", "should", "will", "would"}
# The days a statement before a question may name only to set its scene (_scene_dates).
_SCENE_DAYS = frozenset(
    {"today", "tonight", "tomorrow"}
    | {"this week", "next week", "this weekend", "next weekend", "this month", "next month"}
)
# "the following month" is the next one.
_RELATIVE = {"this": "this", "next": "next", "following": "next", "last": "last", "past": "past", "coming": "coming"}
_AT_NO_COST = re.compile(
    r"\b(?:(?:at|for|with) no (?:extra |additional )?(?:cost|charge)|without (?:any |extra |additional )?"
    r"(?:\w+ )?(?:charges?|fees?|costs?|paying)|without (?:having to )?pay(?:ing)? (?:extra|anything|more))\b"
)
# "won't stop chasing" says "keeps chasing": the two negatives cancel.
_KEEPS = re.compile(
    r"\b(?:won't|wont|will not|doesn't|does not|can't|cannot|didn't|did not)(?: \w+){0,2}"
    r" (?:stop|quit) \w+ing\b"
)
_NEGATIONS = {
    "not",
    "no",
    "never",
    "without",
    "none",
    "nobody",
    "nothing",
    "nowhere",
    "neither",
    "nor",
    "cannot",
    "unable",
    "lack",
    "lacks",
    "hardly",
    "barely",
}
_CAPITALISED = re.compile(r"(?<![\w'])[A-Z][\w'’&-]*")  # noqa: RUF001 a typographic apostrophe is meant
_SENTENCE_END = frozenset('.!?:;"(')
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,}s?\b")
# "U.S", "U.K.": the acronym with its dots, read as "US", "UK" ("A.M." and "P.M." are the times guard's).
_DOTTED_ABBREVIATION = re.compile(r"\b[A-Z](?:\.[A-Z])+\b\.?")
_DOTTED_LOWER = re.compile(r"\b[a-z](?:\.[a-z])+\b")
_CLOCK_MARKERS = frozenset({"AM", "PM"})
_ALIASES = {"usa": "us"}  # one country, two acronyms
# Titles name no one by themselves: "Mr. Trump" is "Trump", "Mahatma Gandhi" is "Gandhi" (as capitalised words;
# the acronym "MS" is a degree, a company or an illness).
_TITLES = frozenset(
    {"mr", "mrs", "ms", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "saint", "st", "jr", "sr"}
    | {"mister", "madam", "mahatma", "president", "pope", "king", "queen", "prince", "princess"}
)
_CODE_SPAN = re.compile(r"`[^`]+`")
# Identifier candidates: runs of the characters identifiers are made of. Each run is then checked by
# an anchored pattern whose repeats are possessive, so neither step can backtrack.
_IDENTIFIER_RUN = re.compile(r"[\w.+#()]+")
_IDENTIFIER_SHAPES = re.compile(
    r"[A-Za-z_]\w*+(?:\.[A-Za-z_]\w*+)++"  # dotted: os.path, node.js
    r"|[A-Za-z]*+_\w*+"  # snake_case, __init__
    r"|[a-z]++[A-Z]\w*+"  # camelCase, iPhone
    r"|[A-Za-z]++\d++[A-Za-z\d]*+"  # alnum: mp3, gpt4, h1b, win10
    r"|[A-Za-z]\w*+\(\)"  # call: print()
    r"|[A-Za-z](?:\+\+|#)"  # C++, C#, F#
)

# No `\s*` around it: on a long run of spaces that scans the run again from every start (quadratic).
_ARROW = re.compile(r"->|=>|→|⇒")
# Time zones by their letters: "7:30 pm ET" is "7:30 pm Eastern time".
_ZONES = {
    **dict.fromkeys(("et", "est", "edt"), "eastern"),
    **dict.fromkeys(("ct", "cst", "cdt"), "central"),
    **dict.fromkeys(("mt", "mst", "mdt"), "mountain"),
    **dict.fromkeys(("pt", "pst", "pdt"), "pacific"),
}
_ZONE_LETTERS = re.compile(r"\b(?:" + "|".join(z.upper() for z in _ZONES) + r")\b(?: time\b)?")
_US_DOLLARS = re.compile(r"\bU\.?S\.? (?=dollars?\b)")  # the currency's name ("USD"), no place named
_US_PLACE = re.compile(r"\bU\.?S\.?(?! dollars?\b)(?=\W|$)")
_ABBREVIATION = re.compile(r"[A-Za-z](?:\.[A-Za-z])++")


class GuardSwitches(Protocol):
    """Read-only, so a frozen policies.schema.GuardPolicy provides it."""

    @property
    def numbers(self) -> bool: ...

    @property
    def dates(self) -> bool: ...

    @property
    def negation(self) -> bool: ...

    @property
    def entities(self) -> bool: ...

    @property
    def antonyms(self) -> bool: ...

    @property
    def order(self) -> bool: ...

    @property
    def times(self) -> bool: ...

    @property
    def units(self) -> bool: ...

    @property
    def scope(self) -> bool: ...


@dataclass(frozen=True)
class Facts:
    """What a question pins down, extracted once per question."""

    numbers: frozenset[str]
    dates: frozenset[str]
    negated: bool
    entities: frozenset[str]
    tokens: frozenset[str]  # stemmed words, to look an entity up in the other question
    lowered: str
    times: tuple[frozenset[int], ...] = ()  # times of day, as the minutes after midnight each may mean
    units: frozenset[tuple[str, str]] = frozenset()  # (dimension, unit)
    amounts: frozenset[str] = frozenset()  # numbers with amounts of time converted (quantities.py)
    amount_units: frozenset[tuple[str, str]] = frozenset()
    scene_dates: frozenset[str] = frozenset()  # vague days said only before the question (_scene_dates)
    antonym_lemmas: frozenset[str] = frozenset()
    reversed_words: frozenset[str] = frozenset()  # "unfreeze" -> "freeze" (gateway/cache/oppositions.py)
    prefixed: frozenset[tuple[str, str]] = frozenset()  # "offline" -> ("off", "line") (oppositions.py)
    hyphen_negated: frozenset[str] = frozenset()  # "off-peak" -> "peak" (oppositions.py)
    scope: frozenset[str] = frozenset()
    roles: Roles = frozenset()
    sequence: tuple[str, ...] = ()  # the words in order, to see two phrases trade places (gateway/cache/swaps.py)
    values: tuple[tuple[str, str], ...] = ()  # numbers and names with the word before each (swaps.py)
    # To see one question add a qualifier to the other (gateway/cache/qualifiers.py).
    wording: Wording = Wording((), 0, False)
    persons: tuple[str, ...] = ()  # whom its pronouns name (gateway/cache/roles.py)
    bindings: Bindings = frozenset()  # which end of an event a detail belongs to (gateway/cache/bindings.py)
    slots: tuple[str, ...] = ()  # content words in order, to see one slot filled differently (substitutions.py)


def extract_facts(text: str) -> Facts:
    tokens = words(text)
    lowered = text.casefold()
    named = _DOTTED_ABBREVIATION.sub(_undotted, text) if "." in text else text
    names = _name_words(named, len(tokens))
    quantities = read_quantities(text, tokens)
    dates = dates_named(text, tokens)
    # "Denver -> Aspen" is "Denver to Aspen" to the order guard, "7 pm ET" is "7 pm Eastern".
    arrows = _ZONE_LETTERS.sub(lambda m: f"{_ZONES[m.group(0).casefold()]} time", _ARROW.sub(" to ", text))
    return Facts(
        numbers=quantities.numbers,
        dates=dates,
        scene_dates=_scene_dates(text, dates),
        negated=_negates(lowered, tokens),
        entities=frozenset(_entities(named, names)),
        tokens=_with_aliases(frozenset(stem(t) for t in tokens) | _joined_abbreviations(lowered)),
        lowered=lowered,
        times=quantities.times,
        units=quantities.units,
        amounts=quantities.amounts,
        amount_units=quantities.amount_units,
        antonym_lemmas=antonym_lemmas(tokens),
        reversed_words=reversed_words(tokens),
        prefixed=prefixed_words(tokens),
        hyphen_negated=hyphen_negated(lowered),
        scope=scope_words(tokens),
        roles=roles(arrows) | pronoun_roles(text),
        sequence=swaps.sequence(arrows),
        values=swaps.values(tokens, frozenset(names)),
        wording=wording(text),
        persons=persons(tokens),
        bindings=bindings(tokens),
        slots=slots(tokens if named == text else words(named), _DATE_WORDS, lowered),
    )


def _negates(lowered: str, tokens: list[str]) -> bool:
    """A negation word, except in "at no extra cost" or "without roaming charges", which say "free", and "won't
    stop barking", which says "keeps barking": none negates anything asked."""
    if ("no" in tokens or "without" in tokens) and _AT_NO_COST.search(lowered):
        lowered = _AT_NO_COST.sub(" free ", lowered)
        tokens = words(lowered)
    if ("stop" in tokens or "quit" in tokens) and _KEEPS.search(lowered):
        tokens = words(_KEEPS.sub(" keeps ", lowered))
    return any(t in _NEGATIONS or t.endswith("n't") for t in tokens)


def rejection(query: Facts, candidate: Facts, switches: GuardSwitches) -> str | None:
    """The name of the first guard the pair trips ("numbers", "dates", ...), None if all pass."""
    quantity = quantities_differ(query, candidate, switches.numbers, switches.units)
    if quantity == "numbers":
        return "numbers"
    if switches.times and times_differ(query.times, candidate.times):
        return "times"
    if switches.dates and _dates_differ(query, candidate):
        return "dates"
    if quantity == "units":
        return "units"
    if switches.negation and query.negated != candidate.negated:
        return "negation"
    if switches.antonyms and (
        antonyms_clash(query.antonym_lemmas, candidate.antonym_lemmas)
        or reversal_clash(query.reversed_words, query.tokens, candidate.reversed_words, candidate.tokens)
        or prefix_clash(query.prefixed, candidate.prefixed)
        or hyphen_clash(
            (query.hyphen_negated, query.tokens, query.lowered),
            (candidate.hyphen_negated, candidate.tokens, candidate.lowered),
        )
    ):
        return "antonyms"
    if switches.scope and scope_clash(query.scope, candidate.scope):
        return "scope"
    added = added_qualifier(query.wording, candidate.wording) if switches.scope or switches.antonyms else None
    if added is not None and getattr(switches, added):
        return added
    if switches.scope and (
        added_phrase(query.sequence, candidate.sequence) or added_phrase(candidate.sequence, query.sequence)
    ):
        return "scope"
    if switches.order and (
        roles_swapped(query.roles, candidate.roles)
        or swaps.swapped(query.sequence, candidate.sequence)
        or swaps.values_traded(query.values, candidate.values)
        or persons_swapped(query.persons, candidate.persons, _content(query) == _content(candidate))
        or another_party(query.persons, candidate.persons, candidate.tokens)
        or another_party(candidate.persons, query.persons, query.tokens)
        or bindings_clash(query.bindings, candidate.bindings)
    ):
        return "order"
    if switches.entities and (_missing_entities(query, candidate) or _missing_entities(candidate, query)):
        return "entities"
    substituted = substitution(query.slots, candidate.slots)
    if substituted is not None and getattr(switches, substituted):
        return substituted
    return None


def _content(facts: Facts) -> frozenset[str]:
    return frozenset(t for t in facts.tokens if t not in STOPWORDS)


def _missing_entities(source: Facts, other: Facts) -> set[str]:
    return {e for e in source.entities if not mentions(other, e)}


def mentions(facts: Facts, entity: str) -> bool:
    """Whether the question names `entity`, in any case or inflection. Identifiers keep their punctuation
    ("node.js", "c++") and are looked up among the question's own identifiers: a set lookup, where a
    substring search per entity would be quadratic on a text full of them."""
    return entity in facts.tokens or entity in facts.entities


def _dates_differ(query: Facts, candidate: Facts) -> bool:
    """Other days, except a vague one that only sets the scene of a question the other asks (its words all
    said, a word at most aside) with no day."""
    if query.dates == candidate.dates:
        return False
    return not (_scene_only(query, candidate) or _scene_only(candidate, query))


def _scene_only(longer: Facts, shorter: Facts) -> bool:
    return not shorter.dates and longer.dates <= longer.scene_dates and len(_content(shorter) - _content(longer)) <= 1


def _scene_dates(text: str, dates: frozenset[str]) -> frozenset[str]:
    """Of `dates` (the text's), the vague days ("right now", "next week", "this weekend") of a statement said
    before the question and not in it: "Out of oil right now - can I use butter instead?", "Heading out on
    vacation next week. Does my policy cover a rental car in Canada?". A named day ("It's Sunday - is the
    pharmacy open?") is never scene."""
    if not dates & _SCENE_DAYS:  # most texts: nothing to split
        return frozenset()
    *lead, question = _LEAD_BREAK.split(text.strip())
    asked = words(question)
    if not lead or not (question.rstrip().endswith("?") or (asked and asked[0] in _ASKING)):
        return frozenset()
    stated = " ".join(lead)
    said_in_question = set(_dates(question, asked))
    return frozenset(d for d in _dates(stated, words(stated)) if d in _SCENE_DAYS and d not in said_in_question)


def dates_named(text: str, tokens: list[str] | None = None) -> frozenset[str]:
    """The days `text` names (the dates guard's reading), without the rest of its facts."""
    return frozenset(_dates(text, words(text) if tokens is None else tokens))


def _dates(text: str, tokens: list[str]) -> list[str]:
    found = [m.group(0).replace("/", "-").replace(".", "-") for m in _NUMERIC_DATE.finditer(text)]
    # "today's rate", "Monday's game": the day is named all the same.
    tokens = [t.removesuffix("'s") for t in tokens]
    dated = {(m.group(1) or m.group(2)).lower() for m in _WRITTEN_AS_DATE.finditer(text)}
    for i, token in enumerate(tokens):
        if token in _MONTHS:
            if token not in _AMBIGUOUS_MONTHS or token in dated:
                found.append(_MONTHS[token])
        elif (token == "now" and i > 0 and tokens[i - 1] in _NOT_TODAY_BEFORE_NOW) or (
            token == "recently" and i > 0 and tokens[i - 1] == "most"  # "most recently" is "last"
        ):
            continue
        elif token in _WEEKDAYS or token in _RELATIVE_DAYS:
            found.append(_TODAY.get(token, token))
        elif token.endswith("s") and token[:-1] in _WEEKDAYS:  # "on Sundays" is "on a Sunday"
            found.append(token[:-1])
        elif token in _RELATIVE and i + 1 < len(tokens) and tokens[i + 1] in _PERIODS:
            relative = _RELATIVE[token]
            found.append(_TONIGHT.get(f"{relative} {tokens[i + 1]}", f"{relative} {tokens[i + 1]}"))
    return found


_UNIT_STEMS = UNIT_WORDS | {stem(w) for w in UNIT_WORDS}  # "Celsius" stems to "celsiu"


def _entities(text: str, names: list[str]) -> list[str]:
    found = [stem(m.group(0).strip("`").casefold()) for m in _CODE_SPAN.finditer(text)]
    found.extend(stem(identifier.casefold()) for identifier in _identifiers(text))
    acronyms = (m.group(0).casefold() for m in _ACRONYM.finditer(text) if m.group(0) != "I")
    found.extend(_entity(acronym) for acronym in acronyms)
    found.extend(_entity(w) for w in names if w not in _TITLES)
    if _US_DOLLARS.search(text) and not _US_PLACE.search(text):
        found = [e for e in found if e != "us"]
    # Month and weekday names are capitalised but belong to the dates guard; "Fahrenheit" to the units guard.
    return [e for e in found if e and e not in _MONTHS and e not in _WEEKDAYS and e not in _UNIT_STEMS]


def _entity(word: str) -> str:
    """A name as the guard compares it: a time zone by its zone, "usa" as "us", else its stem."""
    return _ZONES.get(word) or _ALIASES.get(word) or stem(word)


def _with_aliases(tokens: frozenset[str]) -> frozenset[str]:
    return tokens | {_ALIASES[t] for t in tokens & _ALIASES.keys()}


def _joined_abbreviations(lowered: str) -> frozenset[str]:
    """ "d.c" and "u.s.a." as the words "dc" and "usa" too, so that "DC" and "USA" are found in them."""
    if "." not in lowered:
        return frozenset()
    return frozenset(m.group(0).replace(".", "") for m in _DOTTED_LOWER.finditer(lowered))


def _undotted(match: re.Match[str]) -> str:
    letters = match.group(0).replace(".", "")
    return letters.lower() if letters in _CLOCK_MARKERS else letters  # "7 P.M." names no one


def _name_words(text: str, word_count: int) -> list[str]:
    """The words of the capitalised names in `text`, lower-cased, in order: none where a sentence starts, and
    none in a Title Case Question, which capitalises every word."""
    capitalised = [m.group(0) for m in _CAPITALISED.finditer(text) if not _starts_sentence(text, m.start())]
    if word_count <= 1 or len(capitalised) / (word_count - 1) >= 0.6:
        return []
    # "I", "I'm", "I've" are capitalised everywhere: no name.
    return [w for name in capitalised for w in words(name) if w.partition("'")[0] != "i"]


def _identifiers(text: str) -> list[str]:
    found = []
    for run in _IDENTIFIER_RUN.findall(text):
        call = run.strip(".").lstrip("(")
        # "print()" is a call; "os.path.join()" and "(node.js)" name the identifier inside.
        core = call if call.endswith("()") and _IDENTIFIER_SHAPES.fullmatch(call) else run.strip("().")
        # Abbreviations of single letters ("p.m.", "e.g.") are no identifiers.
        if core and _IDENTIFIER_SHAPES.fullmatch(core) and not _ABBREVIATION.fullmatch(core):
            found.append(core)
    return found


def _starts_sentence(text: str, at: int) -> bool:
    """Whether only whitespace separates `at` from the text's start or a sentence-ending mark. The walk
    back stops at the first other character, after the previous capitalised word: linear overall."""
    at -= 1
    while at >= 0 and text[at].isspace():
        at -= 1
    return at < 0 or text[at] in _SENTENCE_END
