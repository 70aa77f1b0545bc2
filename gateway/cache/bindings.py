"""Which end of an event a detail belongs to: "lands in London at 7 pm ... did it leave New York?" /
"leaves New York at 7 pm ... do I land in London?".

Both questions name both ends (so the antonym guard, gateway/cache/oppositions.py, sees no clash) and the same
places and times, in another order (a clause moved, not two phrases traded: gateway/cache/swaps.py). What
differs is what each end binds: the details that follow an event word in its clause ("lands ... at 7 pm")
belong to that end. Two questions clash when a detail is bound to one word in one question and to that word's
antonym in the other, and never to both: the time of arrival asked as the time of departure, a price to buy
asked as a price to sell.
"""

from gateway.cache.oppositions import lemmas_at, lexicon
from gateway.cache.text import STOPWORDS, stem

WINDOW = 5  # words after an event word that it binds: its object and a place or a time, not the next clause
_CLAUSE_END = frozenset({"and", "but", "or", "then", "if", "when", "what", "which", "how", "so", "after", "before"})
Bindings = frozenset[tuple[str, str]]  # (the event word's lemma, a stemmed detail)


def bindings(tokens: list[str]) -> Bindings:
    """(lemma, detail) for each word with antonyms and the content words it binds."""
    found: set[tuple[str, str]] = set()
    for i, token in enumerate(tokens):
        lemmas = lemmas_at(tokens, i) if token not in STOPWORDS else ()  # "in", "on", "off": no event
        if not lemmas:
            continue
        for detail in tokens[i + 1 : i + 1 + WINDOW]:
            if detail in _CLAUSE_END:
                break
            if detail not in STOPWORDS:
                found.update((lemma, stem(detail)) for lemma in lemmas)
    return frozenset(found)


def bindings_clash(query: Bindings, cached: Bindings) -> bool:
    """A detail bound to a word in one question and to its antonym in the other, and to neither of them twice."""
    antonyms = lexicon().antonyms
    for lemma, detail in query - cached:
        for opposite in antonyms[lemma]:
            if (opposite, detail) in cached and (opposite, detail) not in query and (lemma, detail) not in cached:
                return True
    return False
