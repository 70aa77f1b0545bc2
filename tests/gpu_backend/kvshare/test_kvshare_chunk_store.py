"""Chunk store: content keys with tenant salts, KV copied exactly, eviction under pool pressure."""

import torch

from gpu_backend.kvshare.chunk_spans import chat_chunk_spans
from kvshare_support import messages, prefiller, sequence


def _seeded(smollm2, salt="", **kwargs):
    reuse = prefiller(smollm2, 0.15, **kwargs)
    msgs, chunks = messages([0, 1], "hello")
    ids, spans = chat_chunk_spans(smollm2.chat_template, smollm2.tokenizer, msgs, chunks)
    seq = sequence(ids, salt)
    reuse.prefill(seq, spans)
    return reuse, seq, ids, spans


def test_saved_chunk_holds_the_sequences_kv(smollm2):
    reuse, seq, ids, spans = _seeded(smollm2)
    start, end = spans[1]
    chunk = reuse.store.lookup(ids[start:end])
    k, v = reuse.store.read(chunk)
    pool, size = reuse.pool, reuse.pool.block_size
    slots = torch.tensor([seq.block_table[p // size] * size + p % size for p in range(start, end)])
    flat_k = pool.k_cache.view(pool.num_layers, -1, pool.num_kv_heads, pool.head_dim)
    assert torch.equal(k, flat_k[:, slots]) and chunk.start_position == start
    reuse.release(seq)


def test_a_chunk_stored_under_one_salt_is_never_found_under_another(smollm2):
    reuse, seq, ids, spans = _seeded(smollm2, salt="tenant-a")
    reuse.release(seq)
    start, end = spans[0]
    assert reuse.store.contains(ids[start:end], "tenant-a")
    assert reuse.store.lookup(ids[start:end], "tenant-b") is None
    assert reuse.store.lookup(ids[start:end]) is None
    other = sequence(ids, "tenant-b")
    report = reuse.prefill(other, spans)
    assert report.num_reused == 0 and report.num_cached == 0  # neither chunk nor prefix crosses salts
    reuse.release(other)


def test_chunks_are_evicted_under_pool_pressure_and_no_block_leaks(smollm2):
    reuse, seq, ids, spans = _seeded(smollm2, num_blocks=12)
    reuse.release(seq)
    manager, store, allocator = reuse.block_manager, reuse.store, reuse.block_manager.allocator
    assert len(store) == 2 and store.stored_blocks == 4
    # A prompt needing the whole pool: the radix cache goes first, then the chunks.
    big = sequence(list(range(100, 100 + 12 * 16)))
    assert manager.reserve(big, 12 * 16)
    assert len(store) == 0 and allocator.num_free == 0
    manager.release(big)
    manager.radix.evict(allocator.num_blocks)
    assert allocator.num_free == allocator.num_blocks


def test_a_locked_chunk_is_not_evicted_and_the_store_keeps_to_its_share(smollm2):
    reuse, seq, ids, spans = _seeded(smollm2, store_blocks=2)
    store = reuse.store
    assert len(store) == 1  # each chunk takes 2 blocks: the second displaced the first (LRU)
    start, end = spans[1]
    chunk = store.lookup(ids[start:end])
    store.lock(chunk)
    assert store.evict(10) == 0 and len(store) == 1
    store.unlock(chunk)
    assert store.evict(10) == 2 and len(store) == 0
    reuse.release(seq)
