"""What of a conversation a later question may depend on: its recent user turns, the assistant's closing
offer, and the facts and words they state (read by gateway/cache/context_match.py).

The users' own words say what a conversation is about; the assistant's follow from them, in words of
its own that a rewording of the same conversation need not repeat ("Any other questions?"), so the
facts two contexts must share are the users'. The assistant's closing sentence counts where a reply
accepts it ("yes please"). Small talk ("thanks!", "ok cool") says nothing about the subject and is
left out.
"""

import dataclasses
import re
from dataclasses import dataclass

from gateway.cache.guards import Facts, dates_named, extract_facts
from gateway.cache.text import STOPWORDS, stem, words

Turns = tuple[tuple[str, str], ...]
RECENT_USER_TURNS = 3  # the context is the last few user turns and the assistant's closing offer
TURN_CHARS = 400  # each turn's share of the text compared (the embedding sees ~1,000 characters)
# "I recently moved", "I'm currently on ...", "right now": a rewording adds or drops these without changing the
# day anything happens.
_VAGUE_TIME = re.compile(r"\b(?:now|currently|recently)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# A user turn that says how to answer from here on, or sets the topic: every later question is
# asked under it, however unrelated it looks ("from now on answer in French", "let's talk about Rust").
_INSTRUCTION = re.compile(
    r"\b(?:from now on|for the rest of|always (?:answer|reply|respond|use|write)|(?:answer|reply|respond|write|talk)"
    r" (?:in|like|as|only)|pretend|act as|you are (?:a|an|my)|role ?play|keep (?:it|your answers?|them) "
    r"(?:short|brief)|be (?:brief|concise)|(?:don't|do not|never) (?:use|mention|say)|in the style of|"
    r"explain like|no more than \d+ words|use (?:bullet|markdown|metric|imperial)|let'?s (?:talk|discuss|focus|stick)"
    r"|we(?:'re| are) (?:talking|discussing))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Context:
    """What of a conversation a question may depend on."""

    turns: Turns
    text: str  # what the scorer and the embedding read: the recent user turns (else the last answer)
    offer: str  # the assistant's closing sentence: what a "yes please" accepts
    facts: Facts  # what the recent user turns state (else the last answer)
    offer_facts: Facts  # what the offer states
    content: frozenset[str]  # stemmed content words of the recent user turns and the offer
    asked: tuple[str, ...]  # stemmed content words of the recent user turns alone, in order
    instructs: bool  # a user turn says how to answer from here on, or sets the topic


def context_of(turns: Turns) -> Context:
    asked = [text[:TURN_CHARS] for role, text in turns if role == "user" and not _chatter(text)][-RECENT_USER_TURNS:]
    answers = [text for role, text in turns if role == "assistant"]
    offer = _closing_sentence(answers[-1]) if answers else ""
    text = " ".join(asked) or (answers[-1][-TURN_CHARS:] if answers else "")
    stated = " \n".join([*asked, offer])
    return Context(
        turns=turns,
        text=text,
        offer=offer,
        facts=_stated_facts(text),
        offer_facts=_stated_facts(offer),
        content=frozenset(stem(w) for w in words(stated) if w not in STOPWORDS),
        asked=tuple(stem(w) for w in words(" ".join(asked)) if w not in STOPWORDS and "'" not in w),
        instructs=any(role == "user" and _INSTRUCTION.search(text) for role, text in turns),
    )


def _stated_facts(text: str) -> Facts:
    """The facts of a history, less the words that place it only vaguely in time ("I recently moved", "I'm
    currently on ..."): a rewording adds or drops them without changing the day anything happens."""
    facts = extract_facts(text)
    if not _VAGUE_TIME.search(text):
        return facts
    # Read the days again without them: the guards read "now" and "currently" as "today".
    return dataclasses.replace(facts, dates=dates_named(_VAGUE_TIME.sub(" ", text)))


def _chatter(text: str) -> bool:
    """A turn that says nothing about the subject ("thanks!", "ok cool"): left out of the context."""
    tokens = [part for w in words(text) for part in w.replace("'", " '").split()]
    return len(words(text)) <= 5 and all(w in STOPWORDS or w in _CHATTER for w in tokens)


_CHATTER = {
    "thanks",
    "thank",
    "ok",
    "okay",
    "cool",
    "great",
    "nice",
    "hi",
    "hello",
    "hey",
    "yes",
    "yeah",
    "sure",
    "please",
    "good",
    "awesome",
    "perfect",
    "lol",
    "wow",
    "hmm",
    "right",
    "got",
    "see",
    "useful",
    "helpful",
    "appreciate",
    "cheers",
    "bye",
    "morning",
    "afternoon",
    "evening",
    "makes",
    "sense",
    "'s",
    "'m",
    "'re",
}


def _closing_sentence(answer: str) -> str:
    """The assistant's last question or, failing one, its last sentence: what a short reply answers."""
    sentences = [s.strip() for s in _SENTENCE.split(answer.strip()) if s.strip()]
    questions = [s for s in sentences[-2:] if s.endswith("?")]
    return (questions or sentences or [""])[-1]
