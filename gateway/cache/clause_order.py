"""Two wordings of one question that differ only in the order of their words.

"If I weigh 70 kg, how much protein should I eat?" and "How much protein should I eat if I weigh 70 kg?"
hold the same words; one part of the question was moved past another, whole. Moving a part whole keeps
who does what to whom inside it, so the question asks the same thing. Swapping two words or names
across the sentence ("from London to Paris" / "from Paris to London", "A beat B" / "B beat A") is not
such a move: it changes the order inside the parts, and it is the guards' to refuse.

A pair is a move when one text is the other with two adjacent runs of words exchanged, each run at least
MIN_PART words (a lone moved word, such as "only", can change what it qualifies), every word kept, the
punctuation aside. A stated premise may become a condition: "My pass covers 10 am to 4 pm - can I go at
2 pm?" / "Can I go at 2 pm if my pass covers 10 am to 4 pm?" (one "if" where the parts meet).

Beyond one move, two canonical forms that hold the very same words in another order, articles aside, ask the
same question once the guards have passed them (`reordered`): the guards refuse the orders that change it
(two phrases traded around "from ... to", "than", "beat", a number's place: gateway/cache/swaps.py and
roles.py). What no guard reads is a word that qualifies its neighbour ("not", "only", "never"): moved, it
qualifies something else ("to not have X and be Y" / "to have X and not be Y"), so each such word must stand
before the same word in both. Only plain text is compared: a symbol or a letter outside a-z ("%", "π", a
word in another script) is no word to `words`, and two questions differing only there would read as one.
"""

import re
from collections import Counter

from gateway.cache.text import words

MIN_PART = 2
MAX_WORDS = 48  # longer texts are not searched for a move (the search grows with the cube of the length)
JOINING = "if"  # the one word that may stand where the two parts meet in one text and not in the other
_ARTICLES = frozenset({"a", "an", "the"})
# Words that qualify the word after them; "n't" is "not" in a canonical form.
QUALIFYING = frozenset({"not", "no", "never", "nor", "only", "just", "even", "also", "without", "except"})
_PLAIN = re.compile(r"[a-z0-9' ,.?!;:-]*")  # a canonical form is lower-case
MIN_WORDS = 3


def moved_part(a: str, b: str) -> bool:
    """Whether `b` is `a` with two adjacent parts exchanged (see the module docstring)."""
    wa, wb = words(a), words(b)
    if wa == wb or max(len(wa), len(wb)) > MAX_WORDS:
        return False
    if len(wa) == len(wb):
        return sorted(wa) == sorted(wb) and _exchanged(wa, wb)
    shorter, longer = sorted((wa, wb), key=len)
    if len(longer) != len(shorter) + 1 or sorted([*shorter, JOINING]) != sorted(longer):
        return False
    return any(_exchanged(shorter, longer[:i] + longer[i + 1 :]) for i, w in enumerate(longer) if w == JOINING)


def _exchanged(a: list[str], b: list[str]) -> bool:
    """`b` is `a` with its runs a[i:j] and a[j:k] swapped, each at least MIN_PART words long; the words
    before i and from k on are the same in both, so i and k lie within the two lists' common ends."""
    n = len(a)
    prefix = next((i for i in range(n) if a[i] != b[i]), n)
    suffix = next((i for i in range(n) if a[n - 1 - i] != b[n - 1 - i]), n)
    return any(
        b[i:k] == a[j:k] + a[i:j]
        for i in range(prefix + 1)
        for k in range(max(n - suffix, i + 2 * MIN_PART), n + 1)
        for j in range(i + MIN_PART, k - MIN_PART + 1)
    )


def reordered(a: str, b: str) -> bool:
    """Whether two canonical forms hold the same words, articles aside, each qualifying word before the same
    word in both (see the module docstring)."""
    if not (_PLAIN.fullmatch(a) and _PLAIN.fullmatch(b)):
        return False
    wa, wb = (_content_order(a), _content_order(b))
    if len(wa) < MIN_WORDS or len(wa) > MAX_WORDS or Counter(wa) != Counter(wb):
        return False
    return _qualified(wa) == _qualified(wb)


def _content_order(form: str) -> list[str]:
    return [w for w in words(form) if w not in _ARTICLES]


def _qualified(tokens: list[str]) -> Counter[tuple[str, str]]:
    return Counter((w, tokens[i + 1] if i + 1 < len(tokens) else "") for i, w in enumerate(tokens) if w in QUALIFYING)
