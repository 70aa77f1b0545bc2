"""The in-memory vector index: one hnswlib graph per (namespace, category).

The index only knows ids, fingerprints and vectors; it is derived from the document store
and rebuilt from it at start. A candidate must carry the query's fingerprint, and a
fingerprint can be rare (one conversation's earlier turns) or cover the whole namespace
(no system prompt), so search picks its method by how many entries share it: exact dot
products over a few hundred vectors, or an HNSW walk that skips other fingerprints.
"""

import math
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import hnswlib
import numpy as np

# Below this many entries with the query's fingerprint, a brute-force scan is exact and
# faster than a filtered graph walk (which wanders when few nodes pass the filter).
_BRUTE_FORCE_MAX = 512
# A namespace's category graphs are searched on two threads (hnswlib lets go of the GIL while it
# walks) once they hold this many entries together: a walk at that size waits on memory for
# ~0.1 ms, more than handing half of them to another thread costs. At 100k entries in 7 graphs the
# seven walks took 2.3 ms one after the other and 1.5 ms split over two threads.
_PARALLEL_MIN_ENTRIES = 20_000
# Scanned groups keep their vectors as one matrix, updated on add and delete: copying them out of
# hnswlib on every lookup cost more than the whole rest of it. At most this many rows are kept.
_SCAN_CACHE_ROWS = 65536


@dataclass(frozen=True)
class Neighbour:
    entry_id: str
    similarity: float  # cosine


# The graph size at which a search walks ef_search wide (bench cache-latency, mixed real MiniLM
# vectors): at ef 64, recall@1 against an exact scan was 0.995 at 100k and 0.84 at 1M, so the
# breadth grows with the square root of the size. It shrinks the same way below, down to ef_min,
# because the searches that matter are those with an entry close enough to hit (the shipped
# similarity floors are 0.91-0.94, personal's 0.60 behind a strict verifier): 2,000 QQP questions
# against the bench's 100k store found their nearest entry, when it lay at cosine >= 0.8, in every
# case at ef 16 in graphs of 5k-25k entries and in 99.8% at ef 32 / 100% at ef 48 in one of 43k
# (>= 0.6: 99.7-100% at ef 16 up to 9k entries, 99.9% at ef 32 at 25k). Over all queries, most with
# no close entry, recall@1 was 0.94-0.96 at ef 16. A lookup walks every category graph of its
# namespace, each walk waiting on memory, so their breadth decides most of the search's cost.
REFERENCE_SIZE = 100_000


@dataclass(frozen=True)
class HnswParams:
    dim: int = 384
    m: int = 16
    ef_construction: int = 100
    ef_search: int = 64  # the search breadth at REFERENCE_SIZE entries; see ef_for
    ef_min: int = 16
    ef_max: int = 512
    initial_capacity: int = 1024


def ef_for(params: HnswParams, size: int, k: int) -> int:
    """Search breadth for a graph of `size` entries: ef_search at REFERENCE_SIZE, x2 for every x4 of
    the size (and /2 for every /4), within [ef_min, ef_max], never below k. A hit must not depend on
    graph luck; see REFERENCE_SIZE for what was measured."""
    scaled = params.ef_search * math.sqrt(max(size, 1) / REFERENCE_SIZE)
    return max(k, min(params.ef_max, max(params.ef_min, round(scaled))))


class NamespaceIndex:
    def __init__(self, params: HnswParams) -> None:
        self._params = params
        self._graph = hnswlib.Index(space="cosine", dim=params.dim)
        self._graph.init_index(
            max_elements=params.initial_capacity,
            M=params.m,
            ef_construction=params.ef_construction,
            allow_replace_deleted=True,
        )
        self._graph.set_ef(params.ef_search)
        self._next_label = 0
        self._label_of: dict[str, int] = {}
        self._id_of: dict[int, str] = {}
        self._fingerprint_of: dict[int, str] = {}
        self._labels_by_fingerprint: dict[str, set[int]] = defaultdict(set)
        self._scan_cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = (
            OrderedDict()
        )  # fingerprint -> labels, vectors
        self._scan_cache_rows = 0

    def __len__(self) -> int:
        return len(self._label_of)

    def __contains__(self, entry_id: str) -> bool:
        return entry_id in self._label_of

    def add(self, items: list[tuple[str, str, np.ndarray]], num_threads: int = 1) -> None:
        """Add (entry_id, fingerprint, vector) items; an id already present is replaced."""
        for entry_id, _, _ in items:
            self.remove(entry_id)
        labels = np.arange(self._next_label, self._next_label + len(items))
        self._next_label += len(items)
        self._reserve(len(items))
        vectors = np.stack([np.asarray(v, dtype=np.float32) for _, _, v in items])
        self._graph.add_items(vectors, labels, num_threads=num_threads, replace_deleted=True)
        for label, (entry_id, fingerprint, _) in zip(labels.tolist(), items, strict=True):
            self._label_of[entry_id] = label
            self._id_of[label] = entry_id
            self._fingerprint_of[label] = fingerprint
            self._labels_by_fingerprint[fingerprint].add(label)
        self._extend_scans(labels, items)

    def remove(self, entry_id: str) -> bool:
        label = self._label_of.pop(entry_id, None)
        if label is None:
            return False
        self._graph.mark_deleted(label)
        del self._id_of[label]
        fingerprint = self._fingerprint_of.pop(label)
        same = self._labels_by_fingerprint[fingerprint]
        same.discard(label)
        cached = self._scan_cache.get(fingerprint)
        if cached is not None:
            keep = cached[0] != label
            self._scan_cache[fingerprint] = (cached[0][keep], cached[1][keep])
            self._scan_cache_rows -= 1
        if not same:
            del self._labels_by_fingerprint[fingerprint]
        return True

    def search(self, vector: np.ndarray, fingerprint: str | None, k: int) -> list[Neighbour]:
        """The k nearest live entries, restricted to `fingerprint` unless it is None."""
        query = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if fingerprint is None:
            return self._walk(query, min(k, len(self)), None)
        allowed = self._labels_by_fingerprint.get(fingerprint)
        if not allowed:
            return []
        if len(allowed) <= _BRUTE_FORCE_MAX:
            return self._scan(query, fingerprint, k)
        if len(allowed) == len(self):
            return self._walk(query, min(k, len(self)), None)
        try:
            return self._walk(query, min(k, len(allowed)), allowed.__contains__)
        except RuntimeError:  # the filtered walk found fewer than k: fall back to the exact scan
            return self._scan(query, fingerprint, k)

    def memory_bytes(self) -> int:
        """Graph memory: vectors plus links (hnswlib's own layout), without Python bookkeeping."""
        level0 = self._params.dim * 4 + self._params.m * 2 * 4 + 8 + 4
        return self._graph.get_max_elements() * level0

    def _walk(self, query: np.ndarray, k: int, accept: Callable[[int], bool] | None) -> list[Neighbour]:
        if k <= 0:
            return []
        self._graph.set_ef(ef_for(self._params, len(self), k))
        labels, distances = self._graph.knn_query(query, k=k, num_threads=1, filter=accept)
        return [
            Neighbour(self._id_of[int(label)], 1.0 - float(d)) for label, d in zip(labels[0], distances[0], strict=True)
        ]

    def _scan(self, query: np.ndarray, fingerprint: str, k: int) -> list[Neighbour]:
        labels, vectors = self._scan_group(fingerprint)
        sims = vectors @ query[0] / np.maximum(np.linalg.norm(query[0]), 1e-12)
        best = np.argsort(-sims)[:k] if len(sims) > k else np.argsort(-sims)
        return [Neighbour(self._id_of[int(labels[i])], float(sims[i])) for i in best]

    def _scan_group(self, fingerprint: str) -> tuple[np.ndarray, np.ndarray]:
        cached = self._scan_cache.get(fingerprint)
        if cached is not None:
            self._scan_cache.move_to_end(fingerprint)
            return cached
        labels = np.fromiter(self._labels_by_fingerprint[fingerprint], dtype=np.int64)
        vectors = np.asarray(self._graph.get_items(labels, return_type="numpy"), dtype=np.float32)
        if len(labels) <= _SCAN_CACHE_ROWS:
            self._scan_cache[fingerprint] = (labels, vectors)
            self._scan_cache_rows += len(labels)
            while self._scan_cache_rows > _SCAN_CACHE_ROWS:
                _, (dropped, _) = self._scan_cache.popitem(last=False)
                self._scan_cache_rows -= len(dropped)
        return labels, vectors

    def _extend_scans(self, labels: np.ndarray, items: list[tuple[str, str, np.ndarray]]) -> None:
        """New entries join the kept matrices of their groups (hnswlib stores cosine vectors normalised)."""
        for label, (_, fingerprint, vector) in zip(labels.tolist(), items, strict=True):
            cached = self._scan_cache.get(fingerprint)
            if cached is None:
                continue
            if len(self._labels_by_fingerprint[fingerprint]) > _BRUTE_FORCE_MAX:  # walked from now on
                self._scan_cache_rows -= len(self._scan_cache.pop(fingerprint)[0])
                continue
            row = np.asarray(vector, dtype=np.float32).reshape(1, -1)
            row = row / max(float(np.linalg.norm(row)), 1e-30)
            self._scan_cache[fingerprint] = (np.append(cached[0], label), np.vstack([cached[1], row]))
            self._scan_cache_rows += 1

    def _reserve(self, extra: int) -> None:
        needed = len(self._label_of) + extra
        capacity = self._graph.get_max_elements()
        # Deleted slots are reused, so live entries (not labels ever issued) decide the size.
        if needed > capacity:
            self._graph.resize_index(max(needed, capacity * 2))


class VectorIndex:
    """All namespaces of one gateway replica."""

    def __init__(self, params: HnswParams = HnswParams()) -> None:
        self.params = params
        self._spaces: dict[tuple[str, str], NamespaceIndex] = {}
        self._space_of: dict[str, tuple[str, str]] = {}
        self._categories: dict[str, set[str]] = defaultdict(set)  # namespace -> categories with an index
        self._helper: ThreadPoolExecutor | None = None  # the second thread of search_namespace

    def add(
        self, namespace: str, category: str, items: list[tuple[str, str, np.ndarray]], num_threads: int = 1
    ) -> None:
        key = (namespace, category)
        for entry_id, _, _ in items:
            if self._space_of.get(entry_id, key) != key:
                self.remove(entry_id)
        space = self._spaces.get(key)
        if space is None:
            space = self._spaces[key] = NamespaceIndex(self.params)
            self._categories[namespace].add(category)
        space.add(items, num_threads=num_threads)
        for entry_id, _, _ in items:
            self._space_of[entry_id] = key

    def remove(self, entry_id: str) -> bool:
        key = self._space_of.pop(entry_id, None)
        return key is not None and self._spaces[key].remove(entry_id)

    def search(
        self, namespace: str, category: str, vector: np.ndarray, fingerprint: str | None, k: int
    ) -> list[Neighbour]:
        space = self._spaces.get((namespace, category))
        return space.search(vector, fingerprint, k) if space is not None else []

    def search_namespace(self, namespace: str, vector: np.ndarray, fingerprint: str | None, k: int) -> list[Neighbour]:
        """The k nearest over every category of `namespace`, best first: paraphrases of one question
        are not always classified alike, and a lookup must still find the other wording."""
        spaces = [self._spaces[(namespace, category)] for category in self._categories.get(namespace, ())]
        if len(spaces) < 2 or sum(len(space) for space in spaces) < _PARALLEL_MIN_ENTRIES:
            found = [n for space in spaces for n in space.search(vector, fingerprint, k)]
        else:
            mine, theirs = _halves(spaces)
            if self._helper is None:
                self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semgate-search")
            # Nothing changes the graphs meanwhile: they change only on the caller's thread (the event loop).
            helped = self._helper.submit(lambda: [n for space in theirs for n in space.search(vector, fingerprint, k)])
            found = [n for space in mine for n in space.search(vector, fingerprint, k)] + helped.result()
        return sorted(found, key=lambda n: -n.similarity)[:k]

    def size(self, namespace: str, category: str) -> int:
        space = self._spaces.get((namespace, category))
        return len(space) if space is not None else 0

    def sizes(self) -> dict[tuple[str, str], int]:
        return {key: len(space) for key, space in self._spaces.items()}

    def __len__(self) -> int:
        return len(self._space_of)

    def __contains__(self, entry_id: str) -> bool:
        return entry_id in self._space_of

    def memory_bytes(self) -> int:
        return sum(space.memory_bytes() for space in self._spaces.values())

    def clear(self) -> None:
        self._spaces.clear()
        self._space_of.clear()
        self._categories.clear()

    def close(self) -> None:
        """Stop the search helper thread (a later search starts it again)."""
        if self._helper is not None:
            self._helper.shutdown(wait=True)
            self._helper = None


def _halves(spaces: list[NamespaceIndex]) -> tuple[list[NamespaceIndex], list[NamespaceIndex]]:
    """Two groups of graphs with about the same number of walks and entries: largest first, each to the
    lighter group."""
    groups: tuple[list[NamespaceIndex], list[NamespaceIndex]] = ([], [])
    for space in sorted(spaces, key=len, reverse=True):
        min(groups, key=lambda g: (len(g), sum(len(s) for s in g))).append(space)
    return groups
