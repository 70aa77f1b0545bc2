"""Rebuilding the HNSW index from the document store, the source of truth, at start."""

import asyncio
import os
import sys
from collections import defaultdict

import numpy as np
from tqdm import tqdm

from gateway.cache.index import VectorIndex
from gateway.cache.store import DocumentStore

_BATCH = 4096


async def rebuild(store: DocumentStore, index: VectorIndex, total: int | None = None, progress: bool = True) -> int:
    """Add every stored entry with an embedding to `index`; returns how many were added."""
    pending: dict[tuple[str, str], list[tuple[str, str, np.ndarray]]] = defaultdict(list)
    added = 0
    threads = os.cpu_count() or 1
    with tqdm(
        total=total, desc="rebuilding cache index", unit="entry", file=sys.stderr, disable=not progress, leave=False
    ) as bar:
        async for entry in store.iter_all():
            bar.update(1)
            if entry.embedding is None:
                continue
            space = pending[(entry.namespace, entry.category)]
            space.append((entry.id, entry.fingerprint, entry.embedding))
            if len(space) >= _BATCH:
                added += _flush(index, pending, threads)
                await asyncio.sleep(0)  # let the event loop breathe between graph batches
        added += _flush(index, pending, threads)
    return added


def _flush(index: VectorIndex, pending: dict, threads: int) -> int:
    added = 0
    for (namespace, category), items in pending.items():
        if items:
            index.add(namespace, category, items, num_threads=threads)
            added += len(items)
    pending.clear()
    return added
