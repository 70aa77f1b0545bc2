"""Chunk KV store: the KV of token chunks, keyed by content, reusable at any position.

Beside the radix cache (which shares exact prefixes), this keeps the KV of marked chunks
(e.g. in-context examples) so a later prompt holding the same chunk somewhere else can
reuse it (re-rotated, then blended: see blend.py). Key: (model, salt, token ids); a salt
(tenant) only ever finds its own chunks.

Storage: blocks of the unified KV pool, the chunk's tokens from offset 0 of its first
block, all layers. The store holds one allocator reference per block (taken at save,
dropped at eviction); a prompt reading a chunk `lock`s it for that time. Eviction: least
recently used unlocked chunks, when the pool is short (BlockManager.reserve asks the radix
cache first: an exact-prefix hit skips all compute) or when the store exceeds its share
of the pool (`max_blocks`).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch

from gpu_backend.errors import KVStateError
from gpu_backend.kv import KVPool


@dataclass
class ChunkStoreStats:
    lookups: int = 0
    hits: int = 0
    saved: int = 0
    evicted: int = 0


@dataclass(eq=False)
class StoredChunk:
    key: tuple
    blocks: list[int]
    num_tokens: int
    start_position: int  # the position of its first token when its K were rotated
    last_access: int = 0
    lock_ref: int = field(default=0)


class ChunkStore:
    def __init__(self, pool: KVPool, model_name: str, max_blocks: int | None = None) -> None:
        self.pool = pool
        self.allocator = pool.allocator
        self.block_size = pool.block_size
        self.model_name = model_name
        self.max_blocks = pool.num_blocks // 2 if max_blocks is None else max_blocks
        self.stats = ChunkStoreStats()
        self._chunks: dict[tuple, StoredChunk] = {}
        self._clock = itertools.count(1)

    @property
    def stored_blocks(self) -> int:
        return sum(len(c.blocks) for c in self._chunks.values())

    @property
    def evictable_blocks(self) -> int:
        return sum(len(c.blocks) for c in self._chunks.values() if c.lock_ref == 0)

    def __len__(self) -> int:
        return len(self._chunks)

    def key(self, tokens: Sequence[int], salt: str = "") -> tuple:
        return (self.model_name, salt, tuple(tokens))

    def lookup(self, tokens: Sequence[int], salt: str = "") -> StoredChunk | None:
        self.stats.lookups += 1
        chunk = self._chunks.get(self.key(tokens, salt))
        if chunk is not None:
            self.stats.hits += 1
            chunk.last_access = next(self._clock)
        return chunk

    def find(
        self, tokens: Sequence[int], spans: Sequence[tuple[int, int]], start: int, salt: str = ""
    ) -> list[tuple[int, StoredChunk]]:
        """(position, chunk) of each of a prompt's chunk `spans` that lies at or after `start`,
        ends before the prompt's last token (whose logits must be computed), and is stored."""
        found = []
        for begin, end in spans:
            if begin >= start and end < len(tokens):
                chunk = self.lookup(tokens[begin:end], salt)
                if chunk is not None:
                    found.append((begin, chunk))
        return found

    @contextlib.contextmanager
    def locked(self, chunks: Sequence[StoredChunk]) -> Iterator[None]:
        """Keep `chunks` from eviction while their KV is read."""
        for chunk in chunks:
            self.lock(chunk)
        try:
            yield
        finally:
            for chunk in chunks:
                self.unlock(chunk)

    def save_spans(
        self,
        tokens: Sequence[int],
        spans: Sequence[tuple[int, int]],
        salt: str,
        block_table: Sequence[int],
        skip: set[int],
    ) -> int:
        """Save each of a computed prompt's chunk `spans` (but those starting at a position in
        `skip`) not stored yet; returns how many were newly stored."""
        saved = 0
        for begin, end in spans:
            if begin not in skip and end <= len(tokens) and not self.contains(tokens[begin:end], salt):
                saved += self.save(tokens[begin:end], salt, block_table, begin) is not None
        return saved

    def contains(self, tokens: Sequence[int], salt: str = "") -> bool:
        """A probe that leaves statistics and recency alone (e.g. for a scheduler)."""
        return self.key(tokens, salt) in self._chunks

    def save(self, tokens: Sequence[int], salt: str, block_table: Sequence[int], start: int) -> StoredChunk | None:
        """Copy the KV of `tokens`, which sit at positions [start, start + len) of a sequence
        with `block_table`, into new store blocks. The stored chunk if already there; None if no room."""
        key = self.key(tokens, salt)
        if key in self._chunks or not tokens:
            return self._chunks.get(key)
        needed = -(-len(tokens) // self.block_size)
        if needed > self.max_blocks:
            return None
        over = self.stored_blocks + needed - self.max_blocks
        if over > 0:
            self.evict(over)
        if self.allocator.num_free < needed:
            self.evict(needed - self.allocator.num_free)
        blocks = self.allocator.try_allocate(needed)
        if blocks is None:
            return None
        source = self._slots(block_table, start, len(tokens))
        target = self._slots(blocks, 0, len(tokens))
        for cache in (self.pool.k_cache, self.pool.v_cache):
            flat = cache.view(cache.shape[0], -1, *cache.shape[3:])
            flat[:, target] = flat[:, source]
        chunk = StoredChunk(key, blocks, len(tokens), start, next(self._clock))
        self._chunks[key] = chunk
        self.stats.saved += 1
        return chunk

    def read(self, chunk: StoredChunk) -> tuple[torch.Tensor, torch.Tensor]:
        """(k, v) of the chunk: [num_layers, num_tokens, Hkv, D] each (copies)."""
        slots = self._slots(chunk.blocks, 0, chunk.num_tokens)
        out = []
        for cache in (self.pool.k_cache, self.pool.v_cache):
            out.append(cache.view(cache.shape[0], -1, *cache.shape[3:])[:, slots])
        return out[0], out[1]

    def lock(self, chunk: StoredChunk) -> None:
        chunk.lock_ref += 1

    def unlock(self, chunk: StoredChunk) -> None:
        if chunk.lock_ref <= 0:
            raise KVStateError("unlock of a chunk that is not locked")
        chunk.lock_ref -= 1

    def evict(self, num_blocks: int) -> int:
        """Drop least recently used unlocked chunks until `num_blocks` blocks went back to the
        allocator or none is left to drop; returns the blocks freed."""
        freed = 0
        for chunk in sorted((c for c in self._chunks.values() if c.lock_ref == 0), key=lambda c: c.last_access):
            if freed >= num_blocks:
                break
            del self._chunks[chunk.key]
            freed += len(self.allocator.decref(chunk.blocks))
            self.stats.evicted += 1
        return freed

    def clear(self) -> int:
        """Drop every unlocked chunk (all blocks back to the pool); returns the blocks freed."""
        return self.evict(self.pool.num_blocks)

    def _slots(self, block_table: Sequence[int], start: int, count: int) -> torch.Tensor:
        positions = torch.arange(start, start + count)
        table = torch.as_tensor(list(block_table), dtype=torch.long)
        return (table[positions // self.block_size] * self.block_size + positions % self.block_size).to(
            self.pool.k_cache.device
        )
