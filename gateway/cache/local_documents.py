"""A bounded in-memory copy of recent entries: the read path while the shared store is unreachable.

Each replica fills it with what it writes, what it reads, and what other replicas write (the
change stream carries whole entries), and drops what any replica deletes. While Redis is
down, the HNSW mirror still finds neighbours; this copy supplies their answers, so hits on
recent entries keep being served.
"""

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from gateway.cache.entry import CacheEntry


class LocalDocuments:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._exact: dict[tuple[str, str, str], str] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def remember(self, entries: Iterable[CacheEntry]) -> None:
        if self.capacity <= 0:
            return
        for entry in entries:
            self._entries[entry.id] = entry
            self._entries.move_to_end(entry.id)
            self._exact[_exact_of(entry)] = entry.id
        while len(self._entries) > self.capacity:
            _, oldest = self._entries.popitem(last=False)
            self._drop_exact(oldest)

    def forget(self, entry_ids: Iterable[str]) -> None:
        for entry_id in entry_ids:
            entry = self._entries.pop(entry_id, None)
            if entry is not None:
                self._drop_exact(entry)

    def clear(self) -> None:
        self._entries.clear()
        self._exact.clear()

    def get_many(self, entry_ids: Sequence[str]) -> dict[str, CacheEntry]:
        return {i: self._entries[i] for i in entry_ids if i in self._entries}

    def find_exact(self, namespace: str, category: str, exact_key: str) -> CacheEntry | None:
        entry_id = self._exact.get((namespace, category, exact_key))
        return self._entries.get(entry_id) if entry_id is not None else None

    def _drop_exact(self, entry: CacheEntry) -> None:
        key = _exact_of(entry)
        if self._exact.get(key) == entry.id:
            del self._exact[key]


def _exact_of(entry: CacheEntry) -> tuple[str, str, str]:
    return entry.namespace, entry.category, entry.exact_key
