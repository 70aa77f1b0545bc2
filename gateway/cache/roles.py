"""Argument order: "from London to Paris" / "from Paris to London", "convert USD to EUR" / "EUR to USD".

Both questions of such a pair have the same words, so neither a bag of words nor an embedding
tells them apart. Around each direction or role word we read the words it binds and give them a
role: "from X" and "X to" make X the source, "to Y" and "Y from" the target (the nearest content
word on that side, determiners skipped; "X to" only in a clause without "from", and "Y from" only
in one without "to"); "A beat B" makes A the agent, "B was beaten by A" too, and "A is bigger than
B" puts A above B (the whole run of content words on each side: the subject sits before the
comparative). Two questions clash when a word has one role in one and the opposite role in the
other. Symmetric relations ("A vs B", "A or B", "between A and B") give no roles, and a reordered
sentence that keeps each word's role ("to Paris from London") passes.

"leaves X" and "reaches X" give X the role "from X" and "to X" would.

Who does it to whom: "If I rear-end another driver" / "If another driver rear-ends me", "Can my landlord sue me?"
/ "Can I sue my landlord?", "Should I call him?" / "Should he call me?". Any verb will do here, since the
pronoun's case says its role: "I" (we, he, she, they) before a verb, auxiliaries and adverbs between, acts;
"me" (us, him, her, them) right after one undergoes it, as does a subject of a passive ("I was blocked"; "am I
single" is a state, no act).
A person who acts on a verb in one question and undergoes it in the other is a swap.

Whose it is: two questions with the same content words whose pronouns name other people ("who pays for
my repairs" / "who pays for their repairs", "can I claim it" / "can they claim it") ask about someone
else. "I" and "we" count as one person, as do he, she and they; "you" and "your" are as often generic
("how do you sell your art?" / "how do I sell my art?") and name nobody.
"""

import re
from itertools import pairwise

from gateway.cache.substitutions import related_words
from gateway.cache.text import STOPWORDS, stem

# A word or a clause boundary; one alternation of single classes, linear on any input.
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,;:!?()\"]")
_BOUNDARY = frozenset('.,;:!?()"')
_PRONOUNS = frozenset(
    {
        "myself",
        "yourself",
        "himself",
        "herself",
        "itself",
        "ourselves",
        "yourselves",
        "themselves",
        "someone",
        "somebody",
        "something",
        "anyone",
        "anything",
        "everyone",
        "everything",
        "people",
    }
)
_DETERMINERS = frozenset(
    {
        "the",
        "a",
        "an",
        "my",
        "your",
        "our",
        "their",
        "his",
        "her",
        "its",
        "this",
        "that",
        "these",
        "those",
        "some",
        "any",
    }
)
_SUBJECTS = {"i": "first", "we": "first", "he": "third", "she": "third", "they": "third"}
_OBJECTS = {"me": "first", "us": "first", "him": "third", "her": "third", "them": "third"}
_BE = frozenset({"am", "is", "are", "was", "were", "be", "been", "being"})
# What may stand between a subject pronoun and its verb: "I can't really sue", "she has never called", "I have to
# pay".
# fmt: off
_AUXILIARIES = _BE | frozenset([
    "do", "does", "did", "can", "could", "will", "would", "should", "shall", "may", "might", "must", "have", "has",
    "had", "not", "never", "really", "just", "also", "always", "ever", "still", "even", "often", "usually", "already",
    "actually", "to", "ought", "going", "gonna", "gotta",
])
# fmt: on
# A word with hyphens is one verb ("rear-end"); "can't" reads as "can".
_VERB_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z]+)*|[.,;:!?()\"]")
# marker -> (role of the words before it, role of the words after it)
_DIRECTIONS = {
    "from": ("target", "source"),
    "to": ("source", "target"),
    "into": ("source", "target"),
    "towards": ("source", "target"),
    "toward": ("source", "target"),
    "onto": ("source", "target"),
}
_NEAREST_ONLY = {"from", "to", "into", "towards", "toward", "onto", "per", "instead"}
_MARKERS = {
    **_DIRECTIONS,
    "than": ("greater", "lesser"),
    "per": ("numerator", "denominator"),
    "against": ("agent", "patient"),
    "instead": ("chosen", "replaced"),
}
_VERBS = {  # asymmetric relations: the subject acts on the object
    "beat",
    "beats",
    "beaten",
    "defeat",
    "defeats",
    "defeated",
    "owe",
    "owes",
    "owed",
    "pay",
    "pays",
    "paid",
    "sue",
    "sues",
    "sued",
    "hire",
    "hires",
    "hired",
    "acquire",
    "acquires",
    "acquired",
    "buy",
    "buys",
    "bought",
    "sell",
    "sells",
    "sold",
    "replace",
    "replaces",
    "replaced",
    "precede",
    "precedes",
    "preceded",
    "cause",
    "causes",
    "caused",
    "kill",
    "kills",
    "killed",
    "eat",
    "eats",
    "ate",
    "eaten",
    "chase",
    "chases",
    "chased",
    "follow",
    "follows",
    "followed",
    "outrank",
    "outranks",
    "send",
    "sends",
    "sent",
}
# Leaving a place makes it the source as "from" does: "Which train leaves Manchester before 9?" / "Which train gets
# me to Manchester before 9?". Reaching one makes it the target. ("left" is as often a side or what remains.)
_DEPARTURES = {
    "leave": "source",
    "leaves": "source",
    "leaving": "source",
    "depart": "source",
    "departs": "source",
    "departing": "source",
    "reach": "target",
    "reaches": "target",
    "reaching": "target",
}
_OPPOSITE = {
    "source": "target",
    "target": "source",
    "greater": "lesser",
    "lesser": "greater",
    "numerator": "denominator",
    "denominator": "numerator",
    "agent": "patient",
    "patient": "agent",
    "chosen": "replaced",
    "replaced": "chosen",
}
Roles = frozenset[tuple[str, str]]  # (role, stemmed word)
_SOMEONE = frozenset({"someone", "somebody"})  # "does anyone else get this?" asks the readers, no party
# Words that name a party besides the asker: the other question is then about someone else too.
_PARTIES = _SOMEONE | {"anyone", "anybody", "everyone", "everybody", "another", "other", "friend", "person", "people"}
_PARTIES |= {"family", "partner", "spouse", "wife", "husband", "parent", "child", "kid", "son", "daughter"}
_PERSON = {
    **dict.fromkeys(("i", "me", "my", "mine", "myself", "we", "us", "our", "ours", "ourselves"), "first"),
    **dict.fromkeys(
        (
            "he",
            "him",
            "his",
            "himself",
            "she",
            "her",
            "hers",
            "herself",
            "they",
            "them",
            "their",
            "theirs",
            "themselves",
        ),
        "third",
    ),
}


def roles(text: str) -> Roles:
    tokens = _TOKEN.findall(text.casefold().replace("’", "'"))  # noqa: RUF001 folds the typographic apostrophe
    found: set[tuple[str, str]] = set()
    clause_markers = _clause_markers(tokens)
    for i, token in enumerate(tokens):
        if token == "to" and _infinitive(tokens, i):
            continue
        if token in _MARKERS:
            before_role, after_role = _MARKERS[token]
            after = i + 2 if token == "instead" and i + 1 < len(tokens) and tokens[i + 1] == "of" else i + 1
        elif token in _DEPARTURES:
            found.update((_DEPARTURES[token], w) for w in _run_after(tokens, i + 1)[:1])
            continue
        elif token in _VERBS:
            before_role, after_role, after = "agent", "patient", i + 1
            if after < len(tokens) and tokens[after] == "by":  # passive: "B was beaten by A"
                before_role, after_role, after = "patient", "agent", after + 1
        else:
            continue
        before, after_run = _run_before(tokens, i), _run_after(tokens, after)
        if token in _NEAREST_ONLY:
            before, after_run = before[:1], after_run[:1]
        if token in _DIRECTIONS and _has_counterpart(token, clause_markers[i]):
            before = []  # "from X to Y": X is the source already, Y the target
        found.update((before_role, w) for w in before)
        found.update((after_role, w) for w in after_run)
    return frozenset(found)


def pronoun_roles(text: str) -> Roles:
    """("agent" or "patient", "verb>person") for each pronoun bound to a verb (the module's docstring)."""
    tokens = _VERB_TOKEN.findall(text.casefold().replace("’", "'").replace("n't", " not"))  # noqa: RUF001
    found: set[tuple[str, str]] = set()
    for i, token in enumerate(tokens):
        if token in _SUBJECTS:
            j = i + 1
            while j < len(tokens) and (tokens[j] in _AUXILIARIES or tokens[j].endswith("ly")):  # "I quickly"
                j += 1
            if j < len(tokens) and _verb_like(tokens[j]):
                verb = tokens[j]
                if not (any(t in _BE for t in tokens[i + 1 : j]) or (i > 0 and tokens[i - 1] in _BE)):
                    found.add(("agent", f"{stem(verb)}>{_SUBJECTS[token]}"))
                elif verb.endswith(("ed", "en")):  # "I was blocked", "was I beaten": passive
                    found.add(("patient", f"{stem(verb)}>{_SUBJECTS[token]}"))
                # else "am I single": a state, nobody acts
        elif token in _OBJECTS and i > 0 and _verb_like(tokens[i - 1]):
            found.add(("patient", f"{stem(tokens[i - 1])}>{_OBJECTS[token]}"))
    return frozenset(found)


_NO_VERBS = _DETERMINERS | _PERSON.keys() | {"you"}


def _verb_like(token: str) -> bool:
    return (_content(token) or token in _VERBS) and token not in _NO_VERBS


def roles_swapped(query: Roles, cached: Roles) -> bool:
    """A word with one role in one question and the opposite role (and not its own) in the other."""
    for role, word in query:
        opposite = (_OPPOSITE[role], word)
        if opposite in cached and (role, word) not in cached and opposite not in query:
            return True
    return False


def _has_counterpart(marker: str, clause: set[str]) -> bool:
    return "to" in clause or "into" in clause if marker == "from" else "from" in clause


def _clause_markers(tokens: list[str]) -> list[set[str]]:
    """For each token, the direction words of its clause (one pass; a clause's set is shared by its tokens)."""
    out: list[set[str]] = []
    clause: set[str] = set()
    for token in tokens:
        if token in _BOUNDARY:
            clause = set()
        elif token in _DIRECTIONS:
            clause.add(token)
        out.append(clause)
    return out


def _content(token: str) -> bool:
    return (
        token not in STOPWORDS
        and token not in _PRONOUNS
        and token not in _BOUNDARY
        and token not in _MARKERS
        and token not in _VERBS
        and token not in _DEPARTURES
    )


def _infinitive(tokens: list[str], at: int) -> bool:
    """The "to" of "is it dangerous for dogs to eat ...": "for" someone, then a word that is no noun. Its subject
    is no source, nor its verb a target ("Is chocolate toxic to dogs?" asks the same)."""
    between, following = tokens[max(0, at - 3) : at], tokens[at + 1 : at + 2]
    if "for" not in between[:-1] or not following or following[0] in _BOUNDARY:
        return False  # most "to"s: no lexicon lookup
    subject = between[between.index("for") + 1 :]
    return all(_content(t) or t in _DETERMINERS for t in subject) and not related_words().noun_like(following[0])


def _run_before(tokens: list[str], at: int) -> list[str]:
    run = []
    i = at - 1
    while i >= 0 and _content(tokens[i]):
        run.append(stem(tokens[i]))
        i -= 1
    return run


def _run_after(tokens: list[str], at: int) -> list[str]:
    while at < len(tokens) and tokens[at] in _DETERMINERS:
        at += 1
    run = []
    while at < len(tokens) and _content(tokens[at]):
        run.append(stem(tokens[at]))
        at += 1
    return run


def persons(tokens: list[str]) -> tuple[str, ...]:
    """The person each of a question's pronouns names ("first" or "third"), and "other" for each "someone else",
    sorted: a reordered sentence keeps them."""
    found = [t.partition("'")[0] for t in tokens]  # "i'm", "they're", "else's"
    others = ["other" for t, after in pairwise(found) if t in _SOMEONE and after == "else"]
    return tuple(sorted([_PERSON[t] for t in found if t in _PERSON] + others))


def another_party(one: tuple[str, ...], other: tuple[str, ...], other_tokens: frozenset[str]) -> bool:
    """ "someone else" acts or owns in one question ("when someone else transfers money into my account", "join
    someone else's account") where the other asks about the asker alone ("transfer money to my account"): no
    party but the first person, by pronoun or by word."""
    return "other" in one and bool(other) and set(other) == {"first"} and not other_tokens & _PARTIES


def persons_swapped(query: tuple[str, ...], cached: tuple[str, ...], same_content: bool) -> bool:
    """The same content words, as many pronouns, about other people. A pronoun on one side only ("my dog" /
    "dogs", "text him" / "text") is no swap."""
    return same_content and bool(query) and len(query) == len(cached) and query != cached
