"""One question restated: the same content words and the same numbers, in other function words and order.

"At 425°F, how long should a 4 pound whole chicken roast?" / "How long should I roast a 4 pound whole chicken at
425°F?", "In euros, how much does a season ticket at Dortmund cost?" / "How much does a season ticket at Dortmund
cost in euros?": the verifier, trained on QQP, reads the moved words and the added "I" as doubt (0.5-0.6 under a
0.77 threshold), and neither is a move of whole parts (clause_order.py). Two questions are one restated when:

- both pin down the same quantities (numbers, times of day, dates, units: at least one of them; amounts of time
  converted, as the guards read them: "a 6-hour" / "a 360-minute audiobook") and the same names: a question
  that says how much, when and of what leaves little for other words to change;
- they hold the same content words (stemmed; numbers and unit words apart, the facts compare those), at least
  MIN_CONTENT of them words of three letters or more (not "7", "pm", "ok"), and ask with the same question word
  ("how" and "why" ask different things about the same topic);
- each word that qualifies its neighbour ("not", "only", "never") stands before the same content word in both;
- both are plain text: letters, digits, punctuation and the signs that state quantities ($ % °). Any other symbol
  or script is no word here, and two questions that differ only there ("What does ~ mean in C?" / "What does ^
  mean in C?") would read alike.

The guards have passed the pair before this is asked (gateway/cache/semantic_cache.py): swapped roles and
directions, a scope word one side adds, a negation are theirs to refuse. Names alone are not enough: on QQP
`dev` the same rule with names only ("Quora", "Facebook") joined many questions its labels keep apart ("How does
Quora make money?" / "How do you make money with Quora?"), so at least one quantity must be pinned.
"""

import re

from gateway.cache.clause_order import QUALIFYING
from gateway.cache.guards import Facts
from gateway.cache.quantities import NUMBER_WORDS, UNIT_WORDS
from gateway.cache.text import STOPWORDS, words
from gateway.cache.verifier_features import QuestionView

MIN_CONTENT = 3
_DEGREES = frozenset({"degre", "degree", "degrees"})  # stemmed as the content words are
_NUMBER_ENDINGS = frozenset({"k", "st", "nd", "rd", "th"})  # what the numbers guard reads as part of a number
_PLAIN = re.compile(r"[a-z0-9' ,.?!;:$%°-]*")  # a canonical form is lower-case


def restated(one: QuestionView, other: QuestionView) -> bool:
    """Whether the two questions are one restated (see the module docstring)."""
    pinned = _pinned(one.facts)
    return (
        any(kind != "name" for kind, _ in pinned)
        and pinned == _pinned(other.facts)
        and sum(w.isalpha() and len(w) > 2 for w in one.content) >= MIN_CONTENT  # "7 pm ok" names no subject
        and _wording(one.content) == _wording(other.content)
        and one.question_word == other.question_word
        and bool(_PLAIN.fullmatch(one.form) and _PLAIN.fullmatch(other.form))
        and _qualified(one.form) == _qualified(other.form)
    )


def _wording(content: frozenset[str]) -> frozenset[str]:
    """The content words that are no quantity: numbers and units are compared as the facts pinned ("350F" /
    "350 degrees Fahrenheit")."""
    return frozenset(w for w in content if not _quantity_word(w))


def _quantity_word(word: str) -> bool:
    """A number ("350", "20k", "3rd", "five"), a number glued to its unit ("350f", "5km"), a unit, "degrees"; not a
    model name ("5s" in "iPhone 5S": the numbers guard reads only its 5)."""
    if word[0].isdigit():
        rest = word.lstrip("0123456789.,")
        return not rest or rest in UNIT_WORDS or rest in _NUMBER_ENDINGS
    return word in UNIT_WORDS or word in _DEGREES or word in NUMBER_WORDS or word == "one"


def _pinned(facts: Facts) -> frozenset[tuple[str, object]]:
    return frozenset(
        {("number", n) for n in facts.amounts}
        | {("time", t) for t in facts.times}
        | {("date", d) for d in facts.dates}
        | {("unit", u) for u in facts.amount_units}
        | {("name", e) for e in facts.entities}
    )


def _qualified(form: str) -> list[tuple[str, str]]:
    """Each qualifying word with the content word it stands before."""
    tokens = words(form)
    found = []
    for i, token in enumerate(tokens):
        if token in QUALIFYING:
            after = next((w for w in tokens[i + 1 :] if w not in STOPWORDS), "")
            found.append((token, after))
    return sorted(found)
