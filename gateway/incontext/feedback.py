"""What feedback needs to remember: recent answers (by response id) and recent questions.

A response id is the `id` of a completion the gateway relayed (chatcmpl-...) or the cache entry
id in `x-semgate-entry`. Both are looked up per tenant, so one tenant's id never finds
another's answer, and kept per tenant (gateway/cache/tenant_lru.py): a busy tenant's answers push out
its own older ones, never a quiet tenant's, whose feedback then still finds them. An answer is remembered
with the model that produced it, the evidence level the router saw, its cache entry (when stored) and the
examples it was given.

Implicit feedback: the same tenant asking a near-identical question within the re-ask window
reads as "that answer did not help", once per answer. Near-identical means close embeddings and
the same facts (the cache's guards: numbers, dates, negation, entities), so "ticket code for
order 1050?" after "... order 1642?" is a new question, not a re-ask. The same text sent again and
answered from the cache is no re-ask either: that is someone watching the cache work (or a client
retrying), not a verdict on the answer, which the cache then served unchanged.
"""

import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from gateway.cache.guards import Facts, extract_facts, rejection
from gateway.cache.tenant_lru import TenantLRU
from policies.schema import GuardPolicy

RECENT_ANSWERS = 20_000
RECENT_QUESTIONS_PER_TENANT = 64


@dataclass
class Answer:
    tenant: str
    category: str
    entry_id: str | None  # its cache entry (stored misses) or the entry that served it (hits)
    example_ids: tuple[str, ...] = ()
    model: str | None = None  # the routed model (None: not routed, e.g. a cache hit)
    tier: str | None = None
    level: str | None = None  # the evidence level the router scored it under
    reasked: bool = False


class FeedbackBook:
    def __init__(self, reask_window_s: float, reask_similarity: float) -> None:
        self.reask_window_s = reask_window_s
        self.reask_similarity = reask_similarity
        self._answers: TenantLRU[str, Answer] = TenantLRU(RECENT_ANSWERS)
        # (asked at, embedding, text, answer); the text's facts are extracted only for a similar pair
        self._questions: dict[str, deque[tuple[float, np.ndarray, str, Answer]]] = {}

    def remember(
        self,
        response_ids: list[str],
        answer: Answer,
        question: np.ndarray | None,
        text: str | None,
        now: float | None = None,
    ) -> None:
        for response_id in response_ids:
            self._answers.put(answer.tenant, response_id, answer)
        if question is not None and text:
            recent = self._questions.setdefault(answer.tenant, deque(maxlen=RECENT_QUESTIONS_PER_TENANT))
            recent.append((time.monotonic() if now is None else now, question, text, answer))

    def find(self, tenant: str, response_id: str) -> Answer | None:
        return self._answers.get(tenant, response_id)

    def repeats(self, tenant: str, text: str, now: float | None = None) -> bool:
        """Whether the tenant sent this very text within the re-ask window."""
        now = time.monotonic() if now is None else now
        for asked_at, _, earlier_text, _ in reversed(self._questions.get(tenant, ())):
            if now - asked_at > self.reask_window_s:
                return False
            if earlier_text == text:
                return True
        return False

    def reasked(self, tenant: str, question: np.ndarray, text: str, now: float | None = None) -> Answer | None:
        """The tenant's recent answer this question repeats, if any (each answer is returned once)."""
        now = time.monotonic() if now is None else now
        facts: Facts | None = None  # the regex work is done only once a similar question turns up
        for asked_at, earlier, earlier_text, answer in reversed(self._questions.get(tenant, ())):
            if now - asked_at > self.reask_window_s:
                break
            if answer.reasked or float(np.dot(earlier, question)) < self.reask_similarity:
                continue
            facts = facts or extract_facts(text)
            if rejection(facts, extract_facts(earlier_text), _ALL_GUARDS) is None:
                answer.reasked = True
                return answer
        return None


_ALL_GUARDS = GuardPolicy()
