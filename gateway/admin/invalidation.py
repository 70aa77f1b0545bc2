"""Deleting many entries: invalidate by selectors (or just count them: dry_run), and flush.

Selection by tenant/category/model runs in the store's SQL; age and text similarity are
checked entry by entry. Similarity is computed exactly against every candidate's stored
embedding (not through the approximate index), so "everything like X" misses nothing.
Deletion follows the cache's order: out of the index first, then out of the store.
"""

import time
from dataclasses import replace
from typing import Any

import numpy as np

from gateway.admin.call import Call
from gateway.cache.embedder import OPERATOR
from gateway.cache.entry import CacheEntry
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.store import EntryQuery
from gateway.edge.errors import invalid

SELECTORS = ("tenant", "category", "model", "older_than_s", "similar_to")
MAX_IDS_SHOWN = 1000
PAGE = 1000


async def invalidate(call: Call) -> dict[str, Any]:
    body = call.body or {}
    if not any(body.get(s) is not None for s in SELECTORS):
        raise invalid(
            f"Give at least one selector ({', '.join(SELECTORS)}); POST flush deletes every entry.",
            code="missing_selector",
        )
    cache = call.ctx.require_cache()
    ids = await _select(cache, body)
    dry_run = bool(body.get("dry_run", False))
    deleted = 0 if dry_run else await _delete(cache, ids)
    if not dry_run:
        call.ctx.stats.forget_entries(ids)
    return {
        "matched": len(ids),
        "deleted": deleted,
        "dry_run": dry_run,
        "ids": ids[:MAX_IDS_SHOWN],
        "ids_truncated": len(ids) > MAX_IDS_SHOWN,
    }


async def flush(call: Call) -> dict[str, Any]:
    cache = call.ctx.require_cache()
    ids = await _select(cache, {})
    deleted = await _delete(cache, ids)
    # Also resets the per-namespace counts the quotas use; cheap on the emptied store.
    await cache.rebuild_index(progress=False)
    call.ctx.stats.forget_entries(None)
    return {"deleted": deleted}


async def _select(cache: SemanticCache, body: dict[str, Any]) -> list[str]:
    created_before = time.time() - body["older_than_s"] if body.get("older_than_s") is not None else None
    if body.get("similar_to"):
        return await _similar(cache, body, created_before)
    query = EntryQuery(tenant=body.get("tenant"), category=body.get("category"), model=body.get("model"), limit=PAGE)
    ids: dict[str, None] = {}  # ordered and deduplicated: offsets shift when entries arrive meanwhile
    offset = 0
    while True:
        page = await cache.store.list_entries(replace(query, offset=offset))
        ids.update((e.id, None) for e in page.entries if created_before is None or e.created_at <= created_before)
        if page.next_offset is None:
            return list(ids)
        offset = page.next_offset


async def _similar(cache: SemanticCache, body: dict[str, Any], created_before: float | None) -> list[str]:
    target = await cache.embedder.embed(body["similar_to"], OPERATOR)
    floor = body.get("min_similarity", 0.85)
    scored: list[tuple[float, str]] = []
    async for entry in cache.store.iter_all():
        if entry.embedding is None or not _matches(entry, body, created_before):
            continue
        similarity = float(np.dot(entry.embedding, target))  # both L2-normalised
        if similarity >= floor:
            scored.append((similarity, entry.id))
    scored.sort(reverse=True)
    return [entry_id for _, entry_id in scored]


def _matches(entry: CacheEntry, body: dict[str, Any], created_before: float | None) -> bool:
    return all(body.get(k) is None or getattr(entry, k) == body[k] for k in ("tenant", "category", "model")) and (
        created_before is None or entry.created_at <= created_before
    )


async def _delete(cache: SemanticCache, ids: list[str]) -> int:
    for entry_id in ids:
        cache.index.remove(entry_id)
    return await cache.store.delete(ids) if ids else 0
