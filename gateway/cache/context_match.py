"""Conversations: when an answer cached in one conversation may answer the same question in another.

The fingerprint keeps only what must match exactly (gateway/cache/fingerprint.py); the earlier
user and assistant turns are compared here, for candidates that already passed the similarity
floor and the question's guards:

- both questions asked with no history: nothing to compare;
- a question that needs its context (gateway/cache/dependence.py: "and in Python?", "yes please"),
  or one whose context bears on it (the question is close to its own history in meaning or shares
  a content word with it), or two histories about the same thing, or a history that sets the scene
  (instructions such as "answer in French from now on", a topic such as "let's talk about Rust", the
  user's situation such as "I'm on the Basic plan"): the two contexts must agree, else the candidate
  is rejected;
- otherwise (a self-contained question after unrelated history) the histories do not matter.

Two contexts (gateway/cache/conversation.py) agree when they state the same facts (numbers, dates,
names: the guards of gateway/cache/guards.py on the user turns, and on the assistant's closing offer
where the question replies to it), when a reply ("yes please", "the second one") answers the same
offer, and when a pair scorer reads the users' turns of the two contexts as saying the same
(calibrated P(same) at or above `agree`). The scorer is injected: any
`score_pairs(list[(text_a, text_b)]) -> np.ndarray` of calibrated probabilities (the verifier's
cross-encoder); the cache's default is the duplicate verifier on the two texts
(gateway/cache/pair_scorer.py), given the cosines of the vectors held (a stored entry's context was
embedded at insert). The thresholds were chosen on the tune half of
loadtest/data/cache_suite/multi.jsonl (docs/benchmarks.md, cache-quality).
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from gateway.cache.conversation import Context, Turns, context_of
from gateway.cache.dependence import Dependence, dependence
from gateway.cache.embedder import Embedder
from gateway.cache.entry import CacheEntry
from gateway.cache.fingerprint import conversation_turns
from gateway.cache.guards import rejection
from gateway.cache.text import STOPWORDS, stem, words

PairScorer = Callable[[list[tuple[str, str]]], np.ndarray]
# A scorer marked `reads_cosines` (gateway/cache/pair_scorer.py) also takes the pairs' cosines.
CosinePairScorer = Callable[[list[tuple[str, str]], list[float]], np.ndarray]


@dataclass(frozen=True)
class ContextSettings:
    agree: float = 0.45  # P(same) the two contexts' user turns must reach
    offer_agree: float = 0.5  # P(same) a reply's two offers must reach
    related: float = 0.13  # question-to-own-history cosine from which the history bears on the question
    # Cosine of the two histories from which they are about the same thing: then they must agree, since
    # what differs between them (a plan, a bank) is likely what the answer depends on.
    same_topic: float = 0.5
    # Two histories whose user turns are the same words in the same order but for at most this many replaced
    # in place differ in a detail ("a checking account at Chase" / "a savings account at Chase"), not in wording.
    swapped_words: int = 2


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


class ContextMatcher:
    def __init__(
        self, embedder: Embedder, score_pairs: PairScorer, settings: ContextSettings = ContextSettings()
    ) -> None:
        self.embedder = embedder
        self.settings = settings
        self._score_pairs = score_pairs

    async def vectors(self, tenant: str, turns: Turns) -> tuple[np.ndarray | None, np.ndarray | None]:
        """What an entry stores of its conversation at insert (CacheEntry.context_embedding, offer_embedding):
        the vectors of its context's text and of its closing offer, None where there is no such text."""
        context = context_of(turns)
        texts = [t for t in (context.text, context.offer) if t]
        found = iter(await self.embedder.embed_many(texts, tenant, as_written=True))
        return (next(found) if context.text else None), (next(found) if context.offer else None)

    async def rejections(
        self, tenant: str, question: str, question_vector: np.ndarray, turns: Turns, candidates: Sequence[CacheEntry]
    ) -> list[str | None]:
        """For each candidate: None when its conversation allows it to answer this one, else why not
        ("context", "context_offer", or "context_" + the guard the two contexts trip)."""
        mine = context_of(turns)
        theirs = [context_of(conversation_turns(entry.request)) for entry in candidates]
        if not mine.turns and not any(c.turns for c in theirs):
            return [None] * len(candidates)
        asked = dependence(question)
        replies = asked.cue in ("reply", "selection")
        my_vector, my_offer = await self._own_vectors(tenant, mine, replies)
        their_vectors = await self._stored_vectors(tenant, candidates, theirs, "context_embedding", "text")
        needs = [
            self._must_agree(question, asked, question_vector, mine, my_vector, entry, their, vector)
            for entry, their, vector in zip(candidates, theirs, their_vectors, strict=True)
        ]
        verdicts: list[str | None] = [None] * len(candidates)
        to_score: list[tuple[int, tuple[str, str], float, bool]] = []  # (candidate, texts, cosine, is the offer)
        offers = (
            await self._stored_vectors(tenant, candidates, theirs, "offer_embedding", "offer")
            if replies
            else []  # read only when the question replies
        )
        for i, (their, need) in enumerate(zip(theirs, needs, strict=True)):
            if not need or not (mine.text or their.text):  # nothing but greetings on either side
                continue
            if not mine.text or not their.text:
                verdicts[i] = "context"
                continue
            guard = rejection(mine.facts, their.facts, _CONTEXT_GUARDS) or (
                rejection(mine.offer_facts, their.offer_facts, _CONTEXT_GUARDS) if replies else None
            )
            if guard is not None or self._swapped_detail(mine, their):
                verdicts[i] = f"context_{guard or 'detail'}"
                continue
            if replies:
                if not (mine.offer and their.offer):
                    verdicts[i] = "context_offer"
                    continue
                to_score.append((i, (mine.offer, their.offer), _cosine(my_offer, offers[i]), True))
            to_score.append((i, (mine.text, their.text), _cosine(my_vector, their_vectors[i]), False))
        if to_score:
            scores = await asyncio.to_thread(
                self._score, [pair for _, pair, _, _ in to_score], [cosine for _, _, cosine, _ in to_score]
            )
            for (i, _, _, offer), score in zip(to_score, scores, strict=True):
                floor = self.settings.offer_agree if offer else self.settings.agree
                if verdicts[i] is None and score < floor:
                    verdicts[i] = "context_offer" if offer else "context"
        return verdicts

    def _score(self, pairs: list[tuple[str, str]], cosines: list[float]) -> np.ndarray:
        if getattr(self._score_pairs, "reads_cosines", False):
            return np.asarray(cast(CosinePairScorer, self._score_pairs)(pairs, cosines))
        return np.asarray(self._score_pairs(pairs))

    async def _own_vectors(self, tenant: str, mine: Context, replies: bool) -> tuple[np.ndarray, np.ndarray]:
        """The query's context vector, and its offer's where the question replies to one: the only texts of
        the conversation check a lookup embeds."""
        texts = [t for t in (mine.text, mine.offer if replies else "") if t]
        found = iter(await self.embedder.embed_many(texts, tenant, as_written=True))
        zero = np.zeros(self.embedder.dim, dtype=np.float32)
        return (next(found) if mine.text else zero), (next(found) if replies and mine.offer else zero)

    async def _stored_vectors(
        self, tenant: str, candidates: Sequence[CacheEntry], contexts: Sequence[Context], field: str, part: str
    ) -> list[np.ndarray]:
        """Each candidate's vector of its context's `part` ("text" or "offer"), as stored at insert; an entry
        stored before semgate kept them has its text embedded now."""
        zero = np.zeros(self.embedder.dim, dtype=np.float32)
        vectors = [
            getattr(entry, field) if getattr(context, part) else zero
            for entry, context in zip(candidates, contexts, strict=True)
        ]
        missing = [i for i, v in enumerate(vectors) if v is None]
        if missing:
            embedded = await self.embedder.embed_many(
                [getattr(contexts[i], part) for i in missing], tenant, as_written=True
            )
            for i, vector in zip(missing, embedded, strict=True):
                vectors[i] = vector
        return vectors

    def _must_agree(
        self,
        question: str,
        asked: Dependence,
        question_vector: np.ndarray,
        mine: Context,
        my_vector: np.ndarray,
        entry: CacheEntry,
        their: Context,
        their_vector: np.ndarray,
    ) -> bool:
        if not mine.turns and not their.turns:
            return False
        if asked.dependent or mine.instructs or their.instructs or dependence(entry.query_text).dependent:
            return True
        if mine.text and their.text and float(np.dot(my_vector, their_vector)) >= self.settings.same_topic:
            return True
        return self._bears_on(question, question_vector, mine, my_vector) or self._bears_on(
            entry.query_text, entry.embedding, their, their_vector
        )

    def _swapped_detail(self, mine: Context, their: Context) -> bool:
        """The same sentence with a word or two replaced in place ("a checking account at Chase" / "a savings
        account at Chase"): the one thing that changed is a detail the answer may turn on (a plan, an account
        type, an appliance). Rewordings move words around ("I booked 3 nights at the Hilton" / "My reservation
        at the Hilton is for 3 nights")."""
        a, b = mine.asked, their.asked
        start = 0
        while start < min(len(a), len(b)) and a[start] == b[start]:
            start += 1
        end = 0
        while end < min(len(a), len(b)) - start and a[len(a) - 1 - end] == b[len(b) - 1 - end]:
            end += 1
        only_mine, only_theirs = len(a) - start - end, len(b) - start - end
        limit = self.settings.swapped_words
        return 0 < only_mine <= limit and 0 < only_theirs <= limit and start + end >= max(only_mine, only_theirs)

    def _bears_on(
        self, question: str, question_vector: np.ndarray | None, context: Context, context_vector: np.ndarray
    ) -> bool:
        """A history bears on a self-contained question about the same thing ("I'm on the Basic plan"
        before "how much does an upgrade cost?"), not on one about something else."""
        if not context.turns:
            return False
        if question and {stem(w) for w in words(question) if w not in STOPWORDS} & context.content:
            return True
        return question_vector is not None and float(np.dot(question_vector, context_vector)) >= self.settings.related


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))
