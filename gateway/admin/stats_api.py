"""GET stats and GET upstreams: what the cache and the upstreams are doing now."""

from dataclasses import asdict
from typing import Any

from gateway.admin.call import Call
from gateway.admin.snapshot import take_snapshot

TOP_ENTRIES = 10


async def stats(call: Call) -> dict[str, Any]:
    ctx = call.ctx
    snap = await take_snapshot(ctx)
    return {
        **ctx.stats.summary(),
        "cache_enabled": snap.cache_enabled,
        "policy_version": snap.policy_version,
        "effective": {
            c.name: {
                **c.effective,
                "configured": c.configured,
                "load_level": c.load_level,
                "pressure": c.pressure,
                "cacheable": c.cacheable,
                "scope": c.scope,
            }
            for c in snap.categories
        },
        "entries": {
            "total": snap.entries_total,
            "indexed": snap.indexed_total,
            "by_category": {c.name: c.entries for c in snap.categories},
        },
        "memory": {"rss_bytes": snap.rss_bytes, "index_bytes": snap.index_bytes, "index_elements": snap.indexed_total},
        "embedder": snap.embedder,
        "top_entries": await top_entries(call),
    }


async def upstreams(call: Call) -> dict[str, Any]:
    snap = await take_snapshot(call.ctx)
    return {"data": [asdict(u) for u in snap.upstreams]}


async def top_entries(call: Call) -> list[dict[str, Any]]:
    """The entries that answered most hits since the gateway started."""
    layer = call.ctx.layer
    if layer is None or not call.ctx.stats.hits_by_entry:
        return []
    ranked = call.ctx.stats.hits_by_entry.most_common(TOP_ENTRIES)
    entries = await layer.cache.store.get_many([entry_id for entry_id, _ in ranked])
    return [
        {
            "id": entry_id,
            "hits": hits,
            "category": e.category,
            "tenant": e.tenant,
            "model": e.model,
            "query_text": e.query_text,
            "created_at": e.created_at,
        }
        for entry_id, hits in ranked
        if (e := entries.get(entry_id)) is not None
    ]
