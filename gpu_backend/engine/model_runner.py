"""Runs one scheduled batch through the model: packs the step's tokens, returns logits.

The per-step index tensors are built with numpy over whole arrays (one short Python loop
over sequences, none over tokens): on a CPU the step's Python overhead competes with
the model itself for the same two cores.
"""

from typing import Protocol

import numpy as np
import torch

from gpu_backend.batch import StepBatch
from gpu_backend.engine.scheduled_batch import ScheduledBatch
from gpu_backend.kv import KVPool
from gpu_backend.model.llama import LlamaModel


class StepRunner(Protocol):
    """What the engine needs of a runner: logits for a scheduled batch."""

    reuses_chunks: bool

    def run(self, scheduled: ScheduledBatch) -> torch.Tensor: ...

    def stats(self) -> dict[str, float]: ...


class ModelRunner:
    # Chunk spans (KVShare) mean nothing to this runner: kvshare/runner.py wraps it to reuse them.
    reuses_chunks = False

    def __init__(self, model: LlamaModel, pool: KVPool) -> None:
        self.model = model
        self.pool = pool
        self.block_size = pool.block_size
        self.device = pool.k_cache.device

    def stats(self) -> dict[str, float]:
        return {}

    @torch.inference_mode()
    def run(self, scheduled: ScheduledBatch) -> torch.Tensor:
        """Logits [num sequences that finish their pending tokens this step, vocab]
        float32, in the order of `scheduled.seqs`."""
        input_ids, positions, batch = self.prepare(scheduled)
        return self.model(input_ids, positions, batch, self.pool.k_cache, self.pool.v_cache)

    def prepare(self, scheduled: ScheduledBatch) -> tuple[torch.Tensor, torch.Tensor, StepBatch]:
        seqs = scheduled.seqs
        counts = np.asarray(scheduled.num_new_tokens, dtype=np.int64)
        starts = np.fromiter((s.num_computed_tokens for s in seqs), dtype=np.int64, count=len(seqs))
        ends = starts + counts
        cu_seqlens = np.zeros(len(seqs) + 1, dtype=np.int64)
        np.cumsum(counts, out=cu_seqlens[1:])
        total = int(cu_seqlens[-1])

        if total == len(seqs):  # decode: one new token each, the last one sampled
            input_ids = np.fromiter((s.token_ids[-1] for s in seqs), dtype=np.int64, count=len(seqs))
            positions = starts
        else:
            input_ids = np.fromiter(
                (t for s, a, b in zip(seqs, starts.tolist(), ends.tolist(), strict=True) for t in s.token_ids[a:b]),
                dtype=np.int64,
                count=total,
            )
            positions = np.arange(total, dtype=np.int64) + np.repeat(starts - cu_seqlens[:-1], counts)

        max_context = int(ends.max())
        table_width = -(-max_context // self.block_size)
        block_tables = np.zeros((len(seqs), table_width), dtype=np.int32)
        for row, seq in enumerate(seqs):
            table = seq.block_table[:table_width]
            block_tables[row, : len(table)] = table
        token_rows = np.repeat(np.arange(len(seqs)), counts)
        slot_mapping = (
            block_tables[token_rows, positions // self.block_size].astype(np.int64) * self.block_size
            + positions % self.block_size
        )
        sampled = ends == np.fromiter((s.num_tokens for s in seqs), dtype=np.int64, count=len(seqs))
        logits_indices = cu_seqlens[1:][sampled] - 1

        batch = StepBatch(
            is_prefill=total > len(seqs),
            slot_mapping=self._tensor(slot_mapping),
            block_tables=self._tensor(block_tables),
            context_lens=self._tensor(ends.astype(np.int32)),
            cu_seqlens_q=self._tensor(cu_seqlens.astype(np.int32)),
            logits_indices=self._tensor(logits_indices),
            max_seqlen_q=int(counts.max()),
            max_context_len=max_context,
            num_decode_seqs=int(np.argmax(counts != 1)) if total > len(seqs) else len(seqs),
        )
        return self._tensor(input_ids), self._tensor(positions), batch

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(np.ascontiguousarray(array))
        return tensor if self.device.type == "cpu" else tensor.to(self.device, non_blocking=True)
