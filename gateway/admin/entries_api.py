"""Cache entries: list with filters and paging, semantic search, get one, delete one.

`tenant` always means the tenant that created the entry; a semantic search for a tenant
looks in its private namespace and in the shared one, where its entries may also live.
"""

import time
from typing import Any

import numpy as np

from gateway.admin.call import Call, not_found
from gateway.cache.embedder import OPERATOR
from gateway.cache.entry import SHARED_NAMESPACE, CacheEntry
from gateway.cache.index import Neighbour
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.store import EntryQuery

PREVIEW_CHARS = 240


async def list_entries(call: Call) -> dict[str, Any]:
    cache = call.ctx.require_cache()
    await cache.flush_hits()  # hit counts are batched; show the current ones
    q = call.query
    limit, offset = q.get("limit", 50), q.get("offset", 0)
    page = await cache.store.list_entries(
        EntryQuery(
            tenant=q.get("tenant"),
            category=q.get("category"),
            model=q.get("model"),
            text_contains=q.get("contains"),
            limit=limit,
            offset=offset,
        )
    )
    return {
        "data": [entry_summary(e) for e in page.entries],
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "next_offset": page.next_offset,
    }


async def search_entries(call: Call) -> dict[str, Any]:
    cache = call.ctx.require_cache()
    q = call.query
    vector = await cache.embedder.embed(q["q"], OPERATOR)
    found = await nearest(cache, vector, q.get("k", 10), tenant=q.get("tenant"), category=q.get("category"))
    return {"query": q["q"], "data": [entry_summary(entry, similarity) for entry, similarity in found]}


async def get_entry(call: Call) -> dict[str, Any]:
    cache = call.ctx.require_cache()
    await cache.flush_hits()
    entry = await cache.store.get(call.path["entry_id"])
    if entry is None:
        raise not_found(f"Entry {call.path['entry_id']!r}", "entry_id")
    return {**entry_summary(entry), "request": entry.request, "response": entry.response}


async def delete_entry(call: Call) -> dict[str, Any]:
    cache = call.ctx.require_cache()
    entry_id = call.path["entry_id"]
    if not await cache.delete(entry_id):
        raise not_found(f"Entry {entry_id!r}", "entry_id")
    call.ctx.stats.forget_entries([entry_id])
    return {"id": entry_id, "deleted": True}


async def nearest(
    cache: SemanticCache, vector: np.ndarray, k: int, tenant: str | None = None, category: str | None = None
) -> list[tuple[CacheEntry, float]]:
    """The k entries most similar to `vector`, across the index spaces the filters allow."""
    spaces = [
        (ns, cat)
        for ns, cat in cache.index.sizes()
        if (tenant is None or ns in (tenant, SHARED_NAMESPACE)) and (category is None or cat == category)
    ]
    # Over-fetch in the shared namespace: entries of other tenants are filtered out below.
    neighbours: list[Neighbour] = []
    for ns, cat in spaces:
        neighbours += cache.index.search(ns, cat, vector, None, k * 4 if tenant and ns == SHARED_NAMESPACE else k)
    neighbours.sort(key=lambda n: n.similarity, reverse=True)
    entries = await cache.store.get_many([n.entry_id for n in neighbours])
    found = [
        (entries[n.entry_id], n.similarity)
        for n in neighbours
        if n.entry_id in entries and (tenant is None or entries[n.entry_id].tenant == tenant)
    ]
    return found[:k]


def entry_summary(entry: CacheEntry, similarity: float | None = None) -> dict[str, Any]:
    out = {
        "id": entry.id,
        "tenant": entry.tenant,
        "namespace": entry.namespace,
        "category": entry.category,
        "model": entry.model,
        "producer_model": entry.producer_model,
        "query_text": entry.query_text,
        "answer_preview": answer_text(entry.response)[:PREVIEW_CHARS],
        "created_at": entry.created_at,
        "expires_at": entry.expires_at,
        "expired": entry.expired(time.time()),
        "hit_count": entry.hit_count,
        "last_hit_at": entry.last_hit_at,
        "utility": entry.utility,
    }
    if similarity is not None:
        out["similarity"] = round(similarity, 4)
    return out


def answer_text(response: dict[str, Any]) -> str:
    choices = response.get("choices") or [{}]
    first = choices[0] if isinstance(choices[0], dict) else {}
    message = first.get("message") or {}
    return str(message.get("content") or first.get("text") or "")
