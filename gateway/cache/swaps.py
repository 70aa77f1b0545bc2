"""Two phrases that traded places around the same words: "my cat chases my dog" / "my dog chases my cat".

The role guard (gateway/cache/roles.py) knows the words that bind a role (from/to, than, a few
verbs); most swaps have none: "Does Lowe's price match Home Depot?", "350 degrees Celsius in
Fahrenheit", "How many cups is 2 grams of flour?", "How many euros will I get for 500 dollars?".
What they share is their shape: the two questions are the same words in the same order except
that two short phrases A and B, with the same words M between them, read "A M B" in one and
"B M A" in the other. Nothing else about them needs to be known.

Two numbers or names can trade places across a moved clause or a dropped word too: "Sprinklers are
allowed before 10 am - can I water at 9 am?" / "Can I water at 10 am if sprinklers are allowed before
9 am?" hold the same numbers, "1 pm London time, what time is that in Eastern time?" / "1 pm Eastern
time, what time is that in London?" the same names, but the word before each is another one's
(`values_traded`).

A swap around a short symmetric link ("A and B", "A or B", "A vs B") asks the same question and passes;
so does a moved clause ("On Monday, when ..." / "When ... on Monday"), which is one phrase moving,
not two trading places.
"""

from collections import Counter

from gateway.cache.canonical import base_form
from gateway.cache.text import words

MAX_WORDS = 48  # questions longer than this are left to the other guards (the search below is quadratic in it)
MAX_PHRASE = 5  # words in each swapped phrase: a longer span moving is a reordered clause, not a swapped argument
_SYMMETRIC = frozenset({"and", "or", "vs", "versus", "nor", "plus", "with"})
# A link with one of these is no symmetric one, whatever else it holds: "with gas than with electricity".
_ORDERED = frozenset({"than", "before", "after", "from", "to", "into"})
# Words between two swapped phrases that a symmetric link may span, with the phrases' own words left at
# its ends ("a debit card and a credit card" / "a credit card and a debit card": "card and a").
MAX_LINK = 4
MAX_TRADED = 16  # numbers and names placed differently in the two questions; past this, no trade is looked for
LISTED = "&"  # stands for the word before a number that follows a symmetric link ("500 and 1000")
# Skipped when reading which word stands before a number: "a $500 deductible", "my 16-year-old son".
_DETERMINERS = frozenset({"a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "that"})


def sequence(text: str) -> tuple[str, ...]:
    """The words a swap is looked for in (empty when the text is too long to look). A possessive reads as its
    owner, so "the doctor need the patient's consent" / "the patient need the doctor's consent" is a swap, and an
    inflected word as its base: "How many cups go into a pint?" / "How many pints go into a cup?", "Can I take
    ibuprofen after drinking alcohol?" / "Can I drink alcohol after taking ibuprofen?"."""
    found = [base_form(w.removesuffix("'s")) for w in words(text)]
    return tuple(found) if len(found) <= MAX_WORDS else ()


def swapped(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether `b` is `a` with two phrases traded around the same non-symmetric words."""
    if not a or len(a) != len(b) or a == b or sorted(a) != sorted(b):
        return False
    start = 0
    while a[start] == b[start]:
        start += 1
    end = len(a)
    while a[end - 1] == b[end - 1]:
        end -= 1
    x, y = a[start:end], b[start:end]
    n = len(x)
    for first in range(1, min(MAX_PHRASE, n - 2) + 1):
        for last in range(1, min(MAX_PHRASE, n - first - 1) + 1):
            middle = x[first : n - last]
            if (
                x[:first] == y[n - first :]
                and x[n - last :] == y[:last]
                and middle == y[last : n - first]
                and not _symmetric_link(middle)
            ):
                return True
    return False


def _symmetric_link(middle: tuple[str, ...]) -> bool:
    """ "A and B", "A or the B", "A vs B": a short link that reads the same both ways, unless it also orders
    them ("A rather than B", "with A than with B"). An "and" inside a longer stretch ("leaves A at 7 pm and
    takes 7 hours ... lands in B") joins clauses, not A and B."""
    return len(middle) <= MAX_LINK and bool(_SYMMETRIC.intersection(middle)) and not _ORDERED.intersection(middle)


def values(tokens: list[str], names: frozenset[str] = frozenset()) -> tuple[tuple[str, str], ...]:
    """Each number and each word of a name (`names`: those words of `tokens`, the words of the text) with the
    word before it: determiners skipped; "" when there is none or it is a number or name word too; LISTED
    after a symmetric link. "allowed before 10 am, can I go at 9 am" -> ("before", "10"), ("at", "9")."""
    found = []
    for i, token in enumerate(tokens):
        if not (token[0].isdigit() or token in names):
            continue
        before = i - 1
        while before >= 0 and tokens[before] in _DETERMINERS:
            before -= 1
        word = tokens[before] if before >= 0 else ""
        word = "" if word[:1].isdigit() or word in names else LISTED if word in _SYMMETRIC else word
        found.append((word, token))
    return tuple(found)


def values_traded(a: tuple[tuple[str, str], ...], b: tuple[tuple[str, str], ...]) -> bool:
    """The same numbers and names in both, and two of them that traded the words before them: x after w1 and
    y after w2 in `a`, y after w1 and x after w2 in `b`. Two listed ("the 500 and 1000 notes" / "the 1000
    and 500 notes", "Chase or Citi") trade nothing; one word moving to another name ("the GK section in CDS"
    / "the GK section for CDS") is no trade."""
    if len({v for _, v in a}) < 2 or Counter(v for _, v in a) != Counter(v for _, v in b):
        return False
    only_a, only_b = set(a) - set(b), set(b) - set(a)
    placed = [(word, v) for word, v in only_a if word not in ("", LISTED)]
    if len(placed) > MAX_TRADED:  # the numbers moved about wholesale: no two of them traded places
        return False
    return any((w1, y) in only_b and (w2, x) in only_b for w1, x in placed for w2, y in placed if w1 != w2 and x != y)
