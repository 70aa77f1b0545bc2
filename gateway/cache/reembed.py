"""Stored vectors follow the embedding model: a store written under another one is re-embedded at start.

The store records which vectors it holds (EmbeddingModel.identity, e.g. "all-MiniLM-L6-v2/int8").
Vectors of another identity lie close to ours but not on them (int8 against fp32: cosine 0.98-1.0
for the same text), and the verifier and thresholds were tuned on ours, so a lookup must never
compare its query with them. When the recorded identity differs from the running model's (or is
missing from a store that has entries: written before semgate recorded it, in fp32), every entry's
question (and its conversation's context and offer, gateway/cache/context_match.py) is embedded again
and the entry put back whole (answer, TTL, hit counts kept; a shared store tells the other replicas
through its change stream; an expired entry is deleted instead), then the new identity is recorded.
An interrupted pass leaves the old identity recorded, so the next start does it again.
"""

import asyncio
import logging
import sys
import time

from tqdm import tqdm

from gateway.cache.conversation import context_of
from gateway.cache.embedder import EmbeddingModel
from gateway.cache.entry import CacheEntry
from gateway.cache.fingerprint import conversation_turns
from gateway.cache.store import DocumentStore

log = logging.getLogger(__name__)
EMBEDDING_META = "embedding"
_BATCH = 256


async def ensure_embedded_by(store: DocumentStore, model: EmbeddingModel, progress: bool = True) -> int:
    """Make every stored vector `model`'s (an EmbeddingModel: .identity, .encode); returns how many
    entries were embedded again."""
    recorded = await store.get_meta(EMBEDDING_META)
    if recorded == model.identity:
        return 0
    ids = [e.id async for e in store.iter_all() if e.embedding is not None]  # all first: a put moves an entry
    if ids:
        log.warning(
            "the cache holds vectors of %s, not %s: embedding its %d questions again",
            recorded or "an earlier semgate (fp32)",
            model.identity,
            len(ids),
        )
    loop = asyncio.get_running_loop()
    with tqdm(
        total=len(ids),
        desc="re-embedding cached questions",
        unit="entry",
        file=sys.stderr,
        disable=not progress or not ids,
        leave=False,
    ) as bar:
        for start in range(0, len(ids), _BATCH):
            found = await store.get_many(ids[start : start + _BATCH])
            now = time.time()
            await store.delete([e.id for e in found.values() if e.expires_at <= now])  # not worth embedding
            live = [e for e in found.values() if e.expires_at > now]
            await loop.run_in_executor(None, _embed_again, model, live)
            for entry in live:
                await store.put(entry)
            bar.update(len(found))
    await store.set_meta(EMBEDDING_META, model.identity)
    return len(ids)


def _embed_again(model: EmbeddingModel, entries: list[CacheEntry]) -> None:
    """New vectors for each entry's question and for its conversation's context and offer (as written,
    as the context check embeds them: gateway/cache/context_match.py)."""
    contexts = [context_of(conversation_turns(e.request)) for e in entries]
    questions = [e.query_text for e in entries]
    for entry, vector in zip(entries, model.encode(questions) if questions else [], strict=True):
        entry.embedding = vector
    stated = [t for c in contexts for t in (c.text, c.offer) if t]
    vectors = iter(model.encode(stated, as_written=True) if stated else [])
    for entry, context in zip(entries, contexts, strict=True):
        entry.context_embedding = next(vectors) if context.text else None
        entry.offer_embedding = next(vectors) if context.offer else None
