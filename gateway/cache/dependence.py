"""Does a question need its conversation to be understood? Rules on the question's own words.

A self-contained question ("How do I reverse a list in Python?") means the same after any
history; a dependent one ("and in Python?", "how much is it?", "yes please") means nothing
without it, and its cached answer may only serve a conversation that agrees
(gateway/cache/context_match.py). A wrong "self-contained" serves a wrong answer while a
wrong "dependent" only costs a hit, so every rule leans towards dependent.

The cues, each with the examples tests/gateway/cache/test_dependence.py holds it to:
- reply: an answer to the assistant, not a question ("yes please", "sure, go ahead", "no thanks");
- selection: a pick among what was offered ("the second one", "option 2", "the cheaper one");
- ellipsis: a continuation that leaves its subject out ("and in Python?", "what about Paris?",
  "for two people?", "same for Spain", "anything else?", "tell me more");
- anaphora: a pronoun or pointer to something said before ("how much is it?", "is that safe?",
  "how do I get there?", "what do they eat?", "this one"), but not the dummy "it" of "is it safe
  to ...", "how long does it take to ...", "will it rain ..." nor "this week", "is there a ...";
- comparison: a comparative with nothing to compare with ("is there a cheaper option?");
- generic: nothing of its own to ask about ("what's the price?", "why?", "any examples?");
- operation: a request to work on earlier text ("translate to French", "summarize", "shorter please").

A greeting or an apology it opens with ("hey there -", "sorry if this is basic, but") is read past, and a pronoun
whose noun the question names itself is no cue ("should a puppy get its first vaccine", "money from someone's
account into their own", "an order that has shipped").
"""

import re
from dataclasses import dataclass

from gateway.cache.canonical import without_greetings
from gateway.cache.text import STOPWORDS, words

_REPLY_OPENERS = {
    "yes",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "no",
    "nope",
    "nah",
    "please",
    "alright",
    "absolutely",
    "definitely",
    "certainly",
    "go",
    "sounds",
    "perfect",
    "great",
    "thanks",
    "thank",
    "correct",
    "exactly",
    "agreed",
    "deal",
}
_ORDINALS = {
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "last",
    "latter",
    "former",
    "other",
    "next",
    "previous",
    "top",
    "bottom",
    "middle",
}
_ELLIPSIS_OPENERS = re.compile(r"^(?:and|but|or|so|also|plus|then|what about|how about|same|ditto|instead)\b")
# A short question opening on a preposition continues the last one: "in Python?", "for two people?".
_FRAGMENT_OPENERS = re.compile(
    r"^(?:in|for|with|without|on|at|from|to|by|using|via|into|during|after|before|vs"
    r"|versus|compared to|than)\b"
)
_ELLIPSIS_ANYWHERE = re.compile(
    r"\b(?:instead(?! of)|(?<!someone )(?<!somebody )(?<!everyone )(?<!everybody )else|else$|tell me more"
    r"|more about (?:it|that|this|them)|more details|more info"
    r"|go on|keep going|the rest|otherwise|in that case|if so|if not|how so|why not|how come)\b|\b(?:too|as well"
    r"|again)$"
)
# Only a short question leans on these ("not anymore?"), not "why doesn't my phone charge anymore?".
_SHORT_ELLIPSIS = re.compile(r"\b(?:anymore|any more)\b")
_SHORT = 5
_ALWAYS_ANAPHORIC = {
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "he",
    "him",
    "his",
    "she",
    "her",
    "hers",
    "himself",
    "herself",
    "its",
    "itself",
    "such",
    "same",
    "former",
    "latter",
    "aforementioned",
    "above",
    "previous",
    "said",
    "ones",
    "those",
}
# A pronoun that needs a noun to point to, which the question itself may name (_introduced_before).
_BOUND_BY_A_NOUN = {"its", "itself", "their", "theirs", "themselves", "they"}
_OF_THINGS = {"its", "itself"}
_INTRODUCING = {"a", "an", "my", "your", "our"}
_SOMEONE = {"someone", "somebody", "anyone", "anybody", "everyone", "everybody"}
_DETERMINERS = {"a", "an", "the", "my", "your", "our", "his", "her", "its", "their", "every", "each", "any"}
_ONE_POINTERS = {"this", "that", "which", "the", "other", "another", "each"} | _ORDINALS
_TEMPORAL = {
    "year",
    "week",
    "month",
    "weekend",
    "morning",
    "afternoon",
    "evening",
    "night",
    "summer",
    "winter",
    "spring",
    "fall",
    "autumn",
    "time",
    "season",
    "quarter",
    "semester",
    "days",
    "day",
    "decade",
    "century",
    "friday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "saturday",
    "sunday",
}
_BE_AUX = {
    "is",
    "was",
    "are",
    "were",
    "does",
    "did",
    "do",
    "will",
    "would",
    "can",
    "could",
    "should",
    "isn",
    "wasn",
    "doesn",
    "won",
    "'s",
    "'ll",
    "has",
    "had",
    "might",
    "may",
}
_WEATHER = {
    "rain",
    "raining",
    "rains",
    "snow",
    "snowing",
    "snows",
    "sunny",
    "cold",
    "hot",
    "windy",
    "cloudy",
    "warm",
    "freezing",
    "dark",
    "late",
    "early",
    "night",
    "daytime",
    "humid",
    "stormy",
}
_EXISTENTIAL_NEXT = {
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "will",
    "a",
    "an",
    "any",
    "anything",
    "anyone",
    "some",
    "still",
    "enough",
    "no",
    "too",
    "more",
    "many",
    "much",
    "exist",
    "exists",
    "'s",
    "must",
    "should",
    "might",
    "may",
    "could",
    "would",
    "can",
}
_EXISTENTIAL_PREV = {"is", "are", "was", "were", "will", "isn", "aren", "be", "been", "has", "have"}
_THAT_POINTING_PREV = {
    "do",
    "does",
    "did",
    "about",
    "of",
    "like",
    "with",
    "for",
    "is",
    "was",
    "fix",
    "use",
    "try",
    "get",
    "buy",
    "explain",
    "mean",
    "by",
    "than",
    "on",
    "in",
    "at",
    "from",
    "to",
    "book",
    "order",
    "choose",
    "pick",
    "recommend",
    "take",
    "want",
    "need",
    "cancel",
    "change",
    "prevent",
    "avoid",
    "make",
    "afford",
    "trust",
    "believe",
    "handle",
    "cause",
    "include",
}
_COMPARATIVES = {
    "cheaper",
    "better",
    "faster",
    "bigger",
    "smaller",
    "easier",
    "safer",
    "healthier",
    "closer",
    "larger",
    "worse",
    "newer",
    "quicker",
    "simpler",
    "nearer",
    "preferable",
    "superior",
    "alternative",
    "alternatives",
    "instead",
}
_QUESTION_OPENERS = {
    "",
    "what",
    "why",
    "how",
    "where",
    "when",
    "who",
    "is",
    "was",
    "does",
    "did",
    "do",
    "can",
    "will",
    "would",
    "should",
    "'s",
}
_POINTED_AT = {
    "is",
    "was",
    "'s",
    "one",
    "work",
    "works",
    "mean",
    "means",
    "sound",
    "sounds",
    "right",
    "true",
    "safe",
    "okay",
    "ok",
    "possible",
    "normal",
    "enough",
    "cost",
    "costs",
    "include",
    "includes",
    "take",
    "apply",
}
_CLAUSE_STARTS = {
    "the",
    "a",
    "an",
    "i",
    "you",
    "we",
    "they",
    "he",
    "she",
    "my",
    "your",
    "our",
    "there",
    "it",
    "this",
    "all",
    "some",
    "most",
    "people",
}
_COMPARANDS = {"than", "or", "between", "vs", "versus", "compared", "comparison", "either"}
# Nouns that name an aspect of something and nothing else: "what's the price?" asks about what came before.
_GENERIC = {
    "price",
    "prices",
    "cost",
    "costs",
    "fee",
    "fees",
    "size",
    "sizes",
    "color",
    "colour",
    "weight",
    "address",
    "hours",
    "number",
    "schedule",
    "difference",
    "option",
    "options",
    "alternative",
    "details",
    "detail",
    "example",
    "examples",
    "steps",
    "step",
    "version",
    "model",
    "brand",
    "way",
    "reason",
    "rules",
    "best",
    "cheapest",
    "fastest",
    "worst",
    "good",
    "bad",
    "idea",
    "much",
    "many",
    "long",
    "far",
    "old",
    "big",
    "one",
    "ones",
    "thing",
    "things",
    "part",
    "kind",
    "type",
    "types",
    "info",
    "information",
    "name",
    "link",
    "source",
    "sources",
    "deadline",
    "limit",
    "minimum",
    "maximum",
    "total",
    "amount",
    "rate",
    "instead",
    "else",
    "explain",
    "elaborate",
    "mean",
    "means",
    "meaning",
    "work",
    "works",
    "happen",
    "really",
    "sure",
    "true",
    "why",
    "okay",
    "possible",
    "safe",
    "worth",
    "tell",
    "show",
    "give",
    "list",
    "need",
    "want",
    "know",
    "like",
    "think",
    "recommend",
    "suggest",
    "please",
    "thanks",
    "tips",
    "more",
    "cheaper",
    "better",
    "faster",
    "pros",
    "cons",
    "benefits",
    "risks",
    "downside",
    "downsides",
}
_OPERATIONS = {
    "translate",
    "summarize",
    "summarise",
    "shorten",
    "rewrite",
    "rephrase",
    "simplify",
    "elaborate",
    "expand",
    "continue",
    "repeat",
    "clarify",
    "paraphrase",
    "proofread",
    "reword",
    "condense",
    "compare",
    "retry",
    "redo",
    "undo",
    "shorter",
    "longer",
    "simpler",
}
_OPERATION_TAILS = {
    "to",
    "into",
    "in",
    "for",
    "more",
    "further",
    "again",
    "please",
    "that",
    "this",
    "it",
    "above",
    "briefly",
    "shorter",
    "longer",
    "simpler",
}
_SELECTION = re.compile(
    r"^(?:i 'll take |i want |i 'd like |let 's go with |go with |i choose |i pick )?"
    r"(?:the |that |this )?"
    r"(?:(?:\w+est|\w+er|first|second|third|last|other|latter|former|same|\w+) (?:one|option|plan"
    r"|choice)|option \w+|number \d+|#\d+|\d+(?:st|nd|rd|th))\b"
)


_CLAUSE_BREAK = re.compile(r"[,.;:!?]+|\b(?:if|when|once|after|before|because|since|while|until)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Dependence:
    dependent: bool
    cue: str | None  # reply | selection | ellipsis | anaphora | comparison | generic | operation


SELF_CONTAINED = Dependence(False, None)


def dependence(question: str) -> Dependence:
    """Whether `question` needs the conversation before it, and the first cue that says so."""
    question = without_greetings(question)  # "hey there -", "sorry if this is basic, but": neither points back
    tokens = _split_contractions(words(question))
    if not tokens:
        return Dependence(True, "generic")
    text = " ".join(tokens)
    for cue, found in (
        ("reply", _is_reply),
        ("selection", _is_selection),
        ("ellipsis", _is_ellipsis),
        ("anaphora", _has_anaphora),
        ("comparison", _has_open_comparison),
        ("operation", _is_operation),
        ("generic", _is_generic),
    ):
        # A question that names its own subject in an opening clause points back into itself from the later ones
        # ("If I start a recipe at 8 am, when will it be ready?", "My dog chases my cat. How do I stop it?").
        if found(_opening_clause(question) if cue == "anaphora" else tokens, text):
            return Dependence(True, cue)
    return SELF_CONTAINED


def _opening_clause(question: str) -> list[str]:
    """The words a pronoun could point back from: the whole question, or only its first clause when that clause
    names a subject of its own (three words that are neither stop words nor generic)."""
    tokens = _split_contractions(words(question))
    first = next((c for c in _CLAUSE_BREAK.split(question) if words(c)), "")
    opening = _split_contractions(words(first))
    own = [w for w in opening if w not in STOPWORDS and w not in _GENERIC and not w.startswith("'")]
    return opening if len(own) >= 3 and len(opening) < len(tokens) else tokens


def _split_contractions(tokens: list[str]) -> list[str]:
    """ "that's" -> "that", "'s": the pronoun rules see the pronoun."""
    out = []
    for token in tokens:
        base, _, suffix = token.partition("'")
        out.extend([base, f"'{suffix}"] if suffix else [token])
    return out


def _is_reply(tokens: list[str], text: str) -> bool:
    return tokens[0] in _REPLY_OPENERS and len(tokens) <= 5 and not _has_own_subject(tokens[1:])


def _has_own_subject(rest: list[str]) -> bool:
    """'no, how do I reset a router' asks something of its own after the reply word."""
    return len([w for w in rest if w not in STOPWORDS and w not in _GENERIC and w not in _REPLY_OPENERS]) >= 2


def _is_selection(tokens: list[str], text: str) -> bool:
    return (len(tokens) <= 7 and bool(_SELECTION.match(text))) or (len(tokens) <= 3 and tokens[-1] in _ORDINALS)


def _is_ellipsis(tokens: list[str], text: str) -> bool:
    return bool(
        _ELLIPSIS_OPENERS.match(text)
        or (len(tokens) <= 5 and _FRAGMENT_OPENERS.match(text))
        or _ELLIPSIS_ANYWHERE.search(text)
        or (len(tokens) <= _SHORT and _SHORT_ELLIPSIS.search(text))
    )


def _has_anaphora(tokens: list[str], text: str) -> bool:
    for i, token in enumerate(tokens):
        before = tokens[i - 1] if i else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in _BOUND_BY_A_NOUN and _introduced_before(tokens, i):
            continue
        if token == "same" and after == "day":  # "arrive the same day"
            continue
        if token in _ALWAYS_ANAPHORIC and not (token == "those" and after in ("who", "which", "that")):
            return True
        if token == "it" and not _dummy_it(tokens, i):
            return True
        if token in ("this", "these") and after not in _TEMPORAL and not (token == "these" and after == "days"):
            return True
        if token == "that" and _pointing_that(before, after) and not _relative_that(tokens, i):
            return True
        if token == "there" and before not in _EXISTENTIAL_PREV and after not in _EXISTENTIAL_NEXT:
            return True
        if token == "one" and before in _ONE_POINTERS:
            return True
    return False


def _introduced_before(tokens: list[str], i: int) -> bool:
    """Whether the question itself names what the pronoun at `i` points to. "its" / "itself": a noun after "a",
    "an" or an owner ("should a puppy get its first vaccine"). "they" / "their": someone ("when someone transfers
    money from their account") or a person named as an owner ("my friend's car ... their car"), never a thing
    ("add a column with their websites" points to the conversation). A bare "it" is left out: "can I pay my bill
    with it?" points to the conversation, whatever the question names."""
    for j in range(i):
        named = tokens[j] in _INTRODUCING and j + 1 < i and tokens[j + 1] not in STOPWORDS | _GENERIC
        if tokens[i] in _OF_THINGS and named:
            return True
        if tokens[j] in _SOMEONE or (named and j + 2 < i and tokens[j + 2] == "'s"):
            return True
    return False


def _dummy_it(tokens: list[str], i: int) -> bool:
    """The 'it' of 'is it safe to swim', 'how long does it (typically) take to', 'how much is it to call', 'will it
    rain', 'what time is it', 'make it to the concert'."""
    later = i + 1
    while later < len(tokens) - 1 and tokens[later].endswith("ly"):  # "does it typically take ... to"
        later += 1
    before, after = tokens[i - 1] if i else "", tokens[later : later + 5]
    if after[:1] == ["to"] and (before in _BE_AUX or (before in ("make", "made") and after[1:2] in (["the"], ["a"]))):
        return True
    if any(w in _WEATHER for w in after[:2]) or (before == "is" and tokens[max(i - 2, 0)] in ("time", "day", "date")):
        return True
    subject = before in _BE_AUX or (after[:1] and after[0] in _BE_AUX | {"takes", "take", "took", "costs", "cost"})
    return bool(subject) and any(w in ("to", "that", "if", "whether") for w in after[1:]) and "it" not in after


def _relative_that(tokens: list[str], i: int) -> bool:
    """The 'that' of 'an order that has shipped': it follows a noun (a determiner, then a word that is no
    function word), not a verb or a preposition ('can I order that', 'from that command')."""
    return i > 1 and tokens[i - 2] in _DETERMINERS and tokens[i - 1] not in STOPWORDS


def _pointing_that(before: str, after: str) -> bool:
    """'that' pointing back ('is that safe', 'how do I do that', 'about that plan'), not the relative or
    complement 'that' of 'foods that lower cholesterol' or 'is it true that ...'."""
    if not after:
        return True
    if before in _QUESTION_OPENERS and after in _POINTED_AT:
        return True
    return before in _THAT_POINTING_PREV and after not in _CLAUSE_STARTS


def _has_open_comparison(tokens: list[str], text: str) -> bool:
    return (
        any(t in _COMPARATIVES for t in tokens)
        and not any(t in _COMPARANDS for t in tokens)
        and "instead of" not in text
        and len(tokens) <= 8
    )


def _is_operation(tokens: list[str], text: str) -> bool:
    if tokens[0] not in _OPERATIONS and not (tokens[0] in ("make", "can", "could", "please") and len(tokens) <= 5):
        return False
    rest = tokens[1:]
    return not rest or rest[0] in _OPERATION_TAILS or all(w in STOPWORDS or w in _GENERIC | _OPERATIONS for w in rest)


def _is_generic(tokens: list[str], text: str) -> bool:
    """Nothing to ask about but aspects ('the price', 'an example'), when no number or name pins one."""
    own = [t for t in tokens if t not in STOPWORDS and t not in _GENERIC and not t.startswith("'")]
    return not own
