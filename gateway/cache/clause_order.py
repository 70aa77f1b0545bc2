"""Two wordings of one question that differ only in the order of two of their parts.

"If I weigh 70 kg, how much protein should I eat?" and "How much protein should I eat if I weigh 70 kg?"
hold the same words; one part of the question was moved past another, whole. Moving a part whole keeps
who does what to whom inside it, so the question asks the same thing. Swapping two words or names
across the sentence ("from London to Paris" / "from Paris to London", "A beat B" / "B beat A") is not
such a move: it changes the order inside the parts, and it is the guards' to refuse.

A pair is a move when one text is the other with two adjacent runs of words exchanged, each run at least
MIN_PART words (a lone moved word, such as "only", can change what it qualifies), every word kept, the
punctuation aside. A stated premise may become a condition: "My pass covers 10 am to 4 pm - can I go at
2 pm?" / "Can I go at 2 pm if my pass covers 10 am to 4 pm?" (one "if" where the parts meet).
"""

from gateway.cache.text import words

MIN_PART = 2
MAX_WORDS = 48  # longer texts are not searched for a move (the search grows with the cube of the length)
JOINING = "if"  # the one word that may stand where the two parts meet in one text and not in the other


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
