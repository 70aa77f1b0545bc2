"""Which end of an event a detail belongs to: "lands in London at 7 pm ... did it leave New York?" /
"leaves New York at 7 pm ... do I land in London?".

Both questions name both ends (so the antonym guard, gateway/cache/oppositions.py, sees no clash) and the same
places and times, in another order (a clause moved, not two phrases traded: gateway/cache/swaps.py). What
differs is what each end binds: the details that follow an event word in its clause ("lands ... at 7 pm")
belong to that end. Two questions clash when a detail is bound to one word in one question and to that word's
antonym in the other, and never to both: the time of arrival asked as the time of departure, a price to buy
asked as a price to sell.

A time of day binds to the end of an event said before it in its clause, however long the object between:
"If I start a 6-hour slow cooker recipe at 8 am, when will it be ready?" / "If I want it ready by 8 am, when
should I start it?" bind 8 am to the start and to the finish.
"""

from gateway.cache.oppositions import lemmas_at, lexicon
from gateway.cache.text import STOPWORDS, stem

WINDOW = 5  # words after an event word that it binds: its object and a place or a time, not the next clause
_CLAUSE_END = frozenset({"and", "but", "or", "then", "if", "when", "what", "which", "how", "so", "after", "before"})
# A time of day binds to the event end before it in its clause, object and all between ("leave home at 7 am").
TIME_REACH = 8
_CLOCK_AFTER = frozenset({"am", "pm", "a", "p"}) | {str(minute).zfill(2) for minute in range(60)}
_TIMED_ENDS = {
    **dict.fromkeys(("start", "starts", "started", "starting", "begin", "begins", "began", "put"), "start"),
    **dict.fromkeys(("leave", "leaves", "leaving", "depart", "departs", "departing", "send", "sent"), "start"),
    **dict.fromkeys(("ready", "done", "finish", "finished", "finishes", "end", "ends", "complete"), "finish"),
    **dict.fromkeys(("arrive", "arrives", "arriving", "land", "lands", "landing"), "finish"),
}
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
    return frozenset(found | _timed_ends(tokens))


def _timed_ends(tokens: list[str]) -> set[tuple[str, str]]:
    """("start" or "finish", a time's digits) for each time of day an event's end governs, however far back in its
    clause: "start a 6-hour slow cooker recipe at 8 am" binds 8 am to the start, "ready by 8 am" to the finish."""
    found: set[tuple[str, str]] = set()
    for i, token in enumerate(tokens):
        if not (token.isdigit() and tokens[i + 1 : i + 2] and tokens[i + 1] in _CLOCK_AFTER):
            continue
        for word in reversed(tokens[max(0, i - TIME_REACH) : i]):
            if word in _CLAUSE_END:
                break
            if word in _TIMED_ENDS:
                found.add((_TIMED_ENDS[word], token))
                break
    return found


def bindings_clash(query: Bindings, cached: Bindings) -> bool:
    """A detail bound to a word in one question and to its antonym in the other, and to neither of them twice."""
    antonyms = lexicon().antonyms
    for lemma, detail in query - cached:
        for opposite in antonyms[lemma]:
            if (opposite, detail) in cached and (opposite, detail) not in query and (lemma, detail) not in cached:
                return True
    return False
