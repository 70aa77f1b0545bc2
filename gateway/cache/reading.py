"""One reading of a question for the semantic tier: verifier view, guard facts, and embedding coverage.

Reading is the per-request text work of a lookup (tokenising, regex scans, set building): linear in
the text, but a 256,000-character message still takes tens of milliseconds of it, and so can each
long candidate. The cache therefore reads a query and its candidates together in a worker thread
(`read_all`), never on the event loop, and every veto of a pair comes from here (`veto`).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.cache.coverage import Coverage, EmbeddingWindow, coverage_rejection
from gateway.cache.guards import GuardSwitches, rejection
from gateway.cache.verifier_features import QuestionView, view

SEMANTIC_MATCH, TAIL_MATCH = "semantic", "semantic+exact-tail"
MIN_GUARDED_CHARS = 4096


@dataclass(frozen=True)
class Reading:
    view: QuestionView
    coverage: Coverage

    @property
    def match_kind(self) -> str:
        """What decides a semantic hit for this query (the x-semgate-match header): the embedding
        alone, or the embedding of its window and an identical rest."""
        return TAIL_MATCH if self.coverage.truncated else SEMANTIC_MATCH


def read(text: str, window: EmbeddingWindow) -> Reading:
    coverage = window.coverage(text)
    return Reading(view(_guarded_part(text, coverage)), coverage)


def _guarded_part(text: str, coverage: Coverage) -> str:
    """What the guards and the verifier read. Past the embedding's window a match needs the rest of both
    texts identical (coverage_rejection), so no fact can differ there: reading the window and as much again
    covers every difference, and a 256,000-character message costs the event loop's GIL a few milliseconds
    of reading instead of hundreds. A fact cut at the end reads as different: a miss, never a wrong hit."""
    if not coverage.truncated:
        return text
    return text[: 2 * max(coverage.window_chars, MIN_GUARDED_CHARS)]


def read_all(texts: Sequence[str], window: EmbeddingWindow) -> list[Reading]:
    return [read(text, window) for text in texts]


def veto(query: Reading, cached: Reading, guards: GuardSwitches) -> str | None:
    """Why the cached question must not answer the query: the embedding did not see what differs
    ("tail", "unreadable"), or a guard trips ("numbers", "antonyms", ...); None when nothing does."""
    return coverage_rejection(query.coverage, cached.coverage) or rejection(query.view.facts, cached.view.facts,
                                                                             guards)
