"""One reading of a question for the semantic tier: verifier view, guard facts, and embedding coverage.

Reading is the per-request text work of a lookup (tokenising, regex scans, set building): linear in
the text, but a 256,000-character message still takes tens of milliseconds of it, and so can each
long candidate. The cache therefore reads long texts in a worker thread, never on the event loop; short ones (most
questions) on the loop, where a read costs less than the thread hop's two wake-ups, each of which
takes a core from a CPU backend on the same machine. A stored question's reading is kept by entry
id (`ReadingMemo`): its text never changes and a popular entry is a candidate of many lookups.
Every veto of a pair comes from here (`veto`).
"""

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.cache.canonical import vocabulary
from gateway.cache.coverage import Coverage, EmbeddingWindow, coverage_rejection
from gateway.cache.guards import GuardSwitches, rejection
from gateway.cache.oppositions import lexicon
from gateway.cache.substitutions import related_words
from gateway.cache.verifier_features import QuestionView, view

SEMANTIC_MATCH, TAIL_MATCH = "semantic", "semantic+exact-tail"
MIN_GUARDED_CHARS = 4096
ON_LOOP_CHARS = 512  # read on the event loop up to this many characters in all (well under a millisecond)
MEMO_ENTRIES = 8192


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


def load_word_lists() -> None:
    """Loads the word lists a reading consults (~30 MiB, 0.2 s), which would otherwise load on the first lookup
    that needs them, a stall on that request."""
    vocabulary()
    related_words()
    lexicon()


def read_all(texts: Sequence[str], window: EmbeddingWindow) -> list[Reading]:
    return [read(text, window) for text in texts]


async def read_soon(texts: Sequence[str], window: EmbeddingWindow) -> list[Reading]:
    """`read_all`, on the event loop when the texts are short, else in a worker thread."""
    if sum(len(text) for text in texts) <= ON_LOOP_CHARS:
        return read_all(texts, window)
    return await asyncio.to_thread(read_all, texts, window)


class ReadingMemo:
    """The readings of stored questions by entry id, the most recently used `capacity` of them."""

    def __init__(self, window: EmbeddingWindow, capacity: int = MEMO_ENTRIES) -> None:
        self.window, self.capacity = window, capacity
        self._by_id: OrderedDict[str, Reading] = OrderedDict()

    async def readings(self, entries: Sequence[tuple[str, str]]) -> dict[str, Reading]:
        """(entry id, question) pairs to their readings; only the ones not kept are read."""
        found = {}
        for entry_id, _ in entries:
            if (reading := self._by_id.get(entry_id)) is not None:
                self._by_id.move_to_end(entry_id)
                found[entry_id] = reading
        unread = [(entry_id, text) for entry_id, text in entries if entry_id not in found]
        if unread:
            read_now = await read_soon([text for _, text in unread], self.window)
            for (entry_id, _), reading in zip(unread, read_now, strict=True):
                found[entry_id] = self._by_id[entry_id] = reading
            while len(self._by_id) > self.capacity:
                self._by_id.popitem(last=False)
        return found


def veto(query: Reading, cached: Reading, guards: GuardSwitches) -> str | None:
    """Why the cached question must not answer the query: the embedding did not see what differs
    ("tail", "unreadable"), or a guard trips ("numbers", "antonyms", ...); None when nothing does."""
    return coverage_rejection(query.coverage, cached.coverage) or rejection(query.view.facts, cached.view.facts, guards)
