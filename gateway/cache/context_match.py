"""Conversations: when an answer cached in one conversation may answer the same question in another.

The fingerprint keeps only what must match exactly (gateway/cache/fingerprint.py); the earlier
user and assistant turns are compared here, for candidates that already passed the similarity
floor and the question's guards:

- both questions asked with no history: nothing to compare;
- a question that needs its context (gateway/cache/dependence.py: "and in Python?", "yes please"),
  or one whose context bears on it (the question is close to its own history in meaning or shares
  a content word with it), or a history that sets the scene (instructions such as "answer in
  French from now on", a topic such as "let's talk about Rust", the user's situation such as
  "I'm on the Basic plan"): the two contexts must agree, else the candidate is rejected;
- otherwise (a self-contained question after unrelated history) the histories do not matter.

Two contexts agree when they state the same facts (numbers, dates, names: the guards of
gateway/cache/guards.py on the user turns and the assistant's closing offer), when a reply
("yes please", "the second one") answers the same offer, and when a pair scorer reads the users'
turns of the two contexts as saying the same (calibrated P(same) at or above `agree`). The scorer is
injected: any `score_pairs(list[(text_a, text_b)]) -> np.ndarray` of calibrated probabilities (the
verifier's cross-encoder); the cache's default is the duplicate verifier on the two texts
(gateway/cache/pair_scorer.py). The thresholds were chosen on the tune half of
loadtest/data/cache_suite/multi.jsonl (README, "Conversations").
"""

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gateway.cache.dependence import Dependence, dependence
from gateway.cache.embedder import Embedder
from gateway.cache.entry import CacheEntry
from gateway.cache.fingerprint import conversation_turns
from gateway.cache.guards import Facts, extract_facts, rejection
from gateway.cache.text import STOPWORDS, stem, words

PairScorer = Callable[[list[tuple[str, str]]], np.ndarray]
Turns = tuple[tuple[str, str], ...]
RECENT_USER_TURNS = 3  # the context is the last few user turns and the assistant's closing offer
TURN_CHARS = 400  # each turn's share of the text compared (the embedding sees ~1,000 characters)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# A user turn that says how to answer from here on, or sets the topic: every later question is
# asked under it, however unrelated it looks ("from now on answer in French", "let's talk about Rust").
_INSTRUCTION = re.compile(
    r"\b(?:from now on|for the rest of|always (?:answer|reply|respond|use|write)|(?:answer|reply|respond|write|talk)"
    r" (?:in|like|as|only)|pretend|act as|you are (?:a|an|my)|role ?play|keep (?:it|your answers?|them) "
    r"(?:short|brief)|be (?:brief|concise)|(?:don't|do not|never) (?:use|mention|say)|in the style of|"
    r"explain like|no more than \d+ words|use (?:bullet|markdown|metric|imperial)|let'?s (?:talk|discuss|focus|stick)"
    r"|we(?:'re| are) (?:talking|discussing))\b", re.IGNORECASE)


@dataclass(frozen=True)
class ContextSettings:
    agree: float = 0.45  # P(same) the two contexts' user turns must reach
    offer_agree: float = 0.5  # P(same) a reply's two offers must reach
    related: float = 0.13  # question-to-own-history cosine from which the history bears on the question
    # Cosine of the two histories from which they are about the same thing: then they must agree, since
    # what differs between them (a plan, a bank) is likely what the answer depends on.
    same_topic: float = 0.5
    # Two histories that share their words but for at most this many on each side differ in a detail
    # ("a checking account at Chase" / "a savings account at Chase"), not in wording.
    swapped_words: int = 1


@dataclass(frozen=True)
class _GuardSwitches:
    """The facts a history pins down (amounts, dates, times, units, names) must agree. Negation, antonyms,
    scope words and argument order are left out: a history says "no", "not", "before" or "cheaper" for
    many reasons that do not change the question."""

    numbers: bool = True
    dates: bool = True
    negation: bool = False
    entities: bool = True
    antonyms: bool = False
    order: bool = False
    times: bool = True
    units: bool = True
    scope: bool = False


_CONTEXT_GUARDS = _GuardSwitches()


@dataclass(frozen=True)
class Context:
    """What of a conversation a question may depend on."""

    turns: Turns
    text: str  # what the scorer and the embedding read: the recent user turns (else the last answer)
    offer: str  # the assistant's closing sentence: what a "yes please" accepts
    facts: Facts  # of the recent user turns and the offer
    content: frozenset[str]  # stemmed content words of the recent user turns and the offer
    asked: frozenset[str]  # stemmed content words of the recent user turns alone
    instructs: bool  # a user turn says how to answer from here on, or sets the topic


def context_of(turns: Turns) -> Context:
    asked = [text[:TURN_CHARS] for role, text in turns if role == "user" and not _chatter(text)][-RECENT_USER_TURNS:]
    answers = [text for role, text in turns if role == "assistant"]
    offer = _closing_sentence(answers[-1]) if answers else ""
    # The users' own words say what the conversation is about; the assistant's follow from them.
    text = " ".join(asked) or (answers[-1][-TURN_CHARS:] if answers else "")
    stated = " \n".join([*asked, offer])
    return Context(turns=turns, text=text, offer=offer, facts=extract_facts(stated),
                   content=frozenset(stem(w) for w in words(stated) if w not in STOPWORDS),
                   asked=frozenset(stem(w) for w in words(" ".join(asked)) if w not in STOPWORDS and "'" not in w),
                   instructs=any(role == "user" and _INSTRUCTION.search(text) for role, text in turns))


class ContextMatcher:
    def __init__(self, embedder: Embedder, score_pairs: PairScorer,
                 settings: ContextSettings = ContextSettings()) -> None:
        self.embedder = embedder
        self.settings = settings
        self._score_pairs = score_pairs

    async def rejections(self, tenant: str, question: str, question_vector: np.ndarray, turns: Turns,
                         candidates: Sequence[CacheEntry]) -> list[str | None]:
        """For each candidate: None when its conversation allows it to answer this one, else why not
        ("context", "context_offer", or "context_" + the guard the two contexts trip)."""
        mine = context_of(turns)
        theirs = [context_of(conversation_turns(entry.request)) for entry in candidates]
        if not mine.turns and not any(c.turns for c in theirs):
            return [None] * len(candidates)
        asked = dependence(question)
        vectors = await self._vectors(tenant, [mine, *theirs])
        needs = [self._must_agree(question, asked, question_vector, mine, vectors[0], entry, their, vector)
                 for entry, their, vector in zip(candidates, theirs, vectors[1:])]
        verdicts: list[str | None] = [None] * len(candidates)
        to_score: list[tuple[int, tuple[str, str], bool]] = []  # (candidate, texts, is the offer)
        for i, (their, need) in enumerate(zip(theirs, needs)):
            if not need or not (mine.text or their.text):  # nothing but greetings on either side
                continue
            if not mine.text or not their.text:
                verdicts[i] = "context"
                continue
            guard = rejection(mine.facts, their.facts, _CONTEXT_GUARDS)
            if guard is not None or self._swapped_detail(mine, their):
                verdicts[i] = f"context_{guard or 'detail'}"
                continue
            if asked.cue in ("reply", "selection"):
                if not (mine.offer and their.offer):
                    verdicts[i] = "context_offer"
                    continue
                to_score.append((i, (mine.offer, their.offer), True))
            to_score.append((i, (mine.text, their.text), False))
        if to_score:
            scores = np.asarray(await asyncio.to_thread(self._score_pairs, [pair for _, pair, _ in to_score]))
            for (i, _, offer), score in zip(to_score, scores):
                floor = self.settings.offer_agree if offer else self.settings.agree
                if verdicts[i] is None and score < floor:
                    verdicts[i] = "context_offer" if offer else "context"
        return verdicts

    def _must_agree(self, question: str, asked: Dependence, question_vector: np.ndarray, mine: Context,
                    my_vector: np.ndarray, entry: CacheEntry, their: Context, their_vector: np.ndarray) -> bool:
        if not mine.turns and not their.turns:
            return False
        if asked.dependent or mine.instructs or their.instructs or dependence(entry.query_text).dependent:
            return True
        if mine.text and their.text and float(np.dot(my_vector, their_vector)) >= self.settings.same_topic:
            return True
        return self._bears_on(question, question_vector, mine, my_vector) \
            or self._bears_on(entry.query_text, entry.embedding, their, their_vector)

    def _swapped_detail(self, mine: Context, their: Context) -> bool:
        """The same sentence with a word or two replaced on both sides: the one thing that changed is a detail
        the answer may turn on (a plan, an account type, an appliance). Rewordings change more words."""
        only_mine, only_theirs = mine.asked - their.asked, their.asked - mine.asked
        limit = self.settings.swapped_words
        return 0 < len(only_mine) <= limit and 0 < len(only_theirs) <= limit \
            and len(mine.asked & their.asked) >= len(only_mine | only_theirs)

    def _bears_on(self, question: str, question_vector: np.ndarray | None, context: Context,
                  context_vector: np.ndarray) -> bool:
        """A history bears on a self-contained question about the same thing ("I'm on the Basic plan"
        before "how much does an upgrade cost?"), not on one about something else."""
        if not context.turns:
            return False
        if question and {stem(w) for w in words(question) if w not in STOPWORDS} & context.content:
            return True
        return question_vector is not None and float(np.dot(question_vector, context_vector)) >= self.settings.related

    async def _vectors(self, tenant: str, contexts: Sequence[Context]) -> list[np.ndarray]:
        texts = [c.text for c in contexts]
        vectors = await self.embedder.embed_many([t for t in texts if t], tenant)
        found = iter(vectors)
        return [next(found) if t else np.zeros(self.embedder.dim, dtype=np.float32) for t in texts]


def _chatter(text: str) -> bool:
    """A turn that says nothing about the subject ("thanks!", "ok cool"): left out of the context."""
    tokens = [part for w in words(text) for part in w.replace("'", " '").split()]
    return len(words(text)) <= 5 and all(w in STOPWORDS or w in _CHATTER for w in tokens)


_CHATTER = {"thanks", "thank", "ok", "okay", "cool", "great", "nice", "hi", "hello", "hey", "yes", "yeah", "sure",
            "please", "good", "awesome", "perfect", "lol", "wow", "hmm", "right", "got", "see", "useful", "helpful",
            "appreciate", "cheers", "bye", "morning", "afternoon", "evening", "makes", "sense", "'s", "'m", "'re"}


def _closing_sentence(answer: str) -> str:
    """The assistant's last question or, failing one, its last sentence: what a short reply answers."""
    sentences = [s.strip() for s in _SENTENCE.split(answer.strip()) if s.strip()]
    questions = [s for s in sentences[-2:] if s.endswith("?")]
    return (questions or sentences or [""])[-1]
