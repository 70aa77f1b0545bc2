"""One prompt's prefill with both caches: the radix prefix, then reused chunks, then blend.

The request-level glue between BlockManager (blocks, exact prefixes), ChunkStore (chunks
anywhere) and blend_prefill. Prompts without a chunk hit run the model's own forward.
A blended sequence's KV past its first reused token is approximate, so only the exact
part before it goes into the radix cache (seq.num_exact_tokens; an exact-prefix hit must
stay exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gpu_backend.batch import StepBatch
from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.sequence import Sequence
from gpu_backend.kv.block_allocator import OutOfBlocksError
from gpu_backend.kvshare.blend import ReusedKV, blend_prefill
from gpu_backend.kvshare.chunk_store import ChunkStore
from gpu_backend.model.llama import LlamaModel


@dataclass
class PrefillReport:
    logits: torch.Tensor  # [vocab] of the last prompt token
    num_cached: int  # tokens from the radix prefix cache
    num_reused: int  # tokens from stored chunks
    num_recomputed: int  # reused tokens recomputed in every layer anyway
    tokens_computed: float  # token x layer passes / num_layers: prefill compute in tokens
    exact_tokens: int  # leading tokens whose KV equals a full recompute


def single_sequence_batch(block_table: list[int], start: int, end: int, block_size: int,
                          device: torch.device) -> StepBatch:
    """The StepBatch of one sequence computing positions [start, end)."""
    table = torch.as_tensor(block_table, dtype=torch.long)
    positions = torch.arange(start, end)
    slots = table[positions // block_size] * block_size + positions % block_size
    n = end - start
    return StepBatch(
        is_prefill=n > 1, slot_mapping=slots.to(device), block_tables=table[None].to(torch.int32).to(device),
        context_lens=torch.tensor([end], dtype=torch.int32, device=device),
        cu_seqlens_q=torch.tensor([0, n], dtype=torch.int32, device=device),
        logits_indices=torch.tensor([n - 1], device=device), max_seqlen_q=n, max_context_len=end)


class ChunkReusePrefill:
    def __init__(self, model: LlamaModel, block_manager: BlockManager, store: ChunkStore | None,
                 recompute_ratio: float, check_layer: int = 1) -> None:
        self.model = model
        self.block_manager = block_manager
        self.pool = block_manager.pool
        self.store = store
        self.recompute_ratio = recompute_ratio
        self.check_layer = check_layer

    def prefill(self, seq: Sequence, spans: list[tuple[int, int]]) -> PrefillReport:
        """Compute `seq`'s whole prompt (it must hold no blocks yet); `spans`: its chunks' token spans."""
        bm, tokens, salt = self.block_manager, seq.token_ids, seq.params.cache_salt
        total = len(tokens)
        bm.match_cached_prefix(seq)
        if not bm.reserve(seq, total):
            bm.release(seq)
            raise OutOfBlocksError(f"no room in the KV pool for a {total}-token prompt")
        cached = seq.num_cached_tokens
        hits = self.store.find(tokens, spans, cached, salt) if self.store is not None else []
        if hits:
            with self.store.locked([chunk for _, chunk in hits]):
                reused = [ReusedKV(start, *self.store.read(chunk), chunk.start_position) for start, chunk in hits]
                result = blend_prefill(self.model, self.pool.k_cache, self.pool.v_cache, tokens, seq.block_table,
                                       cached, reused, self.recompute_ratio, self.check_layer)
            logits, reused_n, recomputed = result.logits, result.num_reused, result.num_recomputed
            computed = result.token_layers / self.model.config.num_layers
            exact = total if self.recompute_ratio >= 1.0 else min(start for start, _ in hits)
        else:
            batch = single_sequence_batch(seq.block_table, cached, total, self.pool.block_size,
                                          self.pool.k_cache.device)
            ids = torch.as_tensor(tokens[cached:], device=self.pool.k_cache.device)
            positions = torch.arange(cached, total, device=ids.device)
            logits = self.model(ids, positions, batch, self.pool.k_cache, self.pool.v_cache)[0]
            reused_n, recomputed, computed, exact = 0, 0, float(total - cached), total
        if self.store is not None:
            self.store.save_spans(tokens, spans, salt, seq.block_table, {start for start, _ in hits})
        seq.num_computed_tokens = total
        seq.num_exact_tokens = exact if exact < total else None
        bm.cache_computed_blocks(seq)
        return PrefillReport(logits, cached, reused_n, recomputed, computed, exact)

    def decode(self, seq: Sequence, token: int) -> torch.Tensor:
        """Append `token` to `seq` and compute it; returns the next token's logits."""
        seq.token_ids.append(token)
        position = seq.num_computed_tokens
        if not self.block_manager.reserve(seq, position + 1):
            raise OutOfBlocksError("no room in the KV pool to decode")
        batch = single_sequence_batch(seq.block_table, position, position + 1, self.pool.block_size,
                                      self.pool.k_cache.device)
        device = self.pool.k_cache.device
        logits = self.model(torch.tensor([token], device=device), torch.tensor([position], device=device),
                            batch, self.pool.k_cache, self.pool.v_cache)[0]
        seq.num_computed_tokens += 1
        return logits

    def generate_greedy(self, seq: Sequence, spans: list[tuple[int, int]], max_tokens: int) -> tuple[list[int], PrefillReport]:
        report = self.prefill(seq, spans)
        logits, out = report.logits, []
        for _ in range(max_tokens):
            out.append(int(logits.argmax()))
            if len(out) < max_tokens:
                logits = self.decode(seq, out[-1])
        return out, report

    def release(self, seq: Sequence) -> None:
        """Give `seq`'s blocks back; only its exact KV goes into the prefix cache."""
        self.block_manager.release(seq)
