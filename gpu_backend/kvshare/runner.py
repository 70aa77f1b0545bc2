"""KVShare inside the engine: blend prompts with stored chunks, save new chunks, report.

KVShareRunner wraps the model runner (the builder puts it in the runner's place when KVShare
is on; the engine does not know). A sequence that starts its prompt (after the radix prefix match) with at least one
marked chunk found in the store is prefilled whole here by blend_prefill (its row leaves
the runner's batch; its token count becomes the rest of its prompt, so postprocess
samples it this step); every other row runs through the wrapped runner as before. After the step,
the chunks of prompts that finished their prefill are saved to the store. A blended
sequence's KV after its first reused token is approximate: `num_exact_tokens` keeps that
part out of the radix cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.model_runner import StepRunner
from gpu_backend.engine.scheduled_batch import ScheduledBatch
from gpu_backend.engine.sequence import Sequence
from gpu_backend.errors import InvalidConfig
from gpu_backend.kvshare.blend import ReusedKV, blend_prefill
from gpu_backend.kvshare.chunk_store import ChunkStore
from gpu_backend.model.llama import LlamaModel


@dataclass
class KVShareStats:
    prompts_blended: int = 0
    tokens_reused: int = 0  # prompt tokens whose KV came from the chunk store
    tokens_recomputed: int = 0  # of those, recomputed by the selective recompute
    chunks_saved: int = 0
    # Prompt tokens' worth of compute the blends skipped: the tokens a blended row counts as
    # prefilled, less its token x layer passes / layers.
    prefill_tokens_saved: float = 0.0


class KVShareRunner:
    # Sequences may carry chunk spans: the server computes them only for a runner that reads them.
    reuses_chunks = True

    def __init__(
        self,
        runner: StepRunner,
        model: LlamaModel,
        block_manager: BlockManager,
        store: ChunkStore,
        recompute_ratio: float,
        check_layer: int = 1,
    ) -> None:
        if not 0.0 <= recompute_ratio <= 1.0:
            raise InvalidConfig(f"recompute_ratio must lie in [0, 1], got {recompute_ratio}")
        self.runner = runner
        self.model = model
        self.block_manager = block_manager
        self.store = store
        self.recompute_ratio = recompute_ratio
        self.check_layer = check_layer
        self.counters = KVShareStats()

    def stats(self) -> dict[str, float]:
        counters = self.counters
        return {
            "kvshare_recompute_ratio": self.recompute_ratio,
            "kvshare_chunk_blocks": self.store.stored_blocks,
            "kvshare_prompts_blended": counters.prompts_blended,
            "kvshare_tokens_reused": counters.tokens_reused,
            "kvshare_tokens_recomputed": counters.tokens_recomputed,
            "kvshare_chunks_saved": counters.chunks_saved,
            "kvshare_prefill_tokens_saved": counters.prefill_tokens_saved,
        }

    def run(self, batch: ScheduledBatch) -> torch.Tensor:
        """Logits of the rows that sample this step, in batch order (as ModelRunner.run)."""
        blended: dict[int, torch.Tensor] = {}
        reused_starts: dict[int, set[int]] = {}
        for index, (seq, count) in enumerate(zip(batch.seqs, batch.num_new_tokens, strict=True)):
            if count > 1 and seq.num_computed_tokens == seq.num_cached_tokens and seq.num_output_tokens == 0:
                seq.num_exact_tokens = None  # a fresh prefill (also after a preemption)
                outcome = self._try_blend(seq)
                if outcome is not None:
                    blended[index], reused_starts[index] = outcome
                    batch.num_new_tokens[index] = seq.num_prompt_tokens - seq.num_computed_tokens
        rest = ScheduledBatch(
            [s for i, s in enumerate(batch.seqs) if i not in blended],
            [c for i, c in enumerate(batch.num_new_tokens) if i not in blended],
        )
        rest_logits = self.runner.run(rest) if rest.seqs else None
        self._save_finished_prompts(batch, reused_starts)
        if rest_logits is None:  # every row blended (a scheduled batch is never empty)
            return torch.stack([blended[index] for index in sorted(blended)])
        if not blended:
            return rest_logits
        rows, taken = [], 0
        for index, (seq, count) in enumerate(zip(batch.seqs, batch.num_new_tokens, strict=True)):
            if index in blended:
                rows.append(blended[index][None])
            elif seq.num_computed_tokens + count == seq.num_tokens:
                rows.append(rest_logits[taken : taken + 1])
                taken += 1
        return torch.cat(rows)

    def _try_blend(self, seq: Sequence) -> tuple[torch.Tensor, set[int]] | None:
        start_at, total = seq.num_computed_tokens, seq.num_prompt_tokens
        hits = self.store.find(seq.token_ids[:total], seq.chunk_spans, start_at, seq.params.cache_salt)
        if not hits:
            return None
        with self.store.locked([chunk for _, chunk in hits]):
            if not self.block_manager.reserve(seq, total):
                return None  # no room for the whole prompt now: the ordinary chunked path
            reused = [ReusedKV(s, *self.store.read(chunk), chunk.start_position) for s, chunk in hits]
            result = blend_prefill(
                self.model,
                self.block_manager.pool.k_cache,
                self.block_manager.pool.v_cache,
                seq.token_ids[:total],
                seq.block_table,
                start_at,
                reused,
                self.recompute_ratio,
                self.check_layer,
            )
        if self.recompute_ratio < 1.0:
            seq.num_exact_tokens = min(s for s, _ in hits)
        self.counters.prompts_blended += 1
        self.counters.tokens_reused += result.num_reused
        self.counters.tokens_recomputed += result.num_recomputed
        self.counters.prefill_tokens_saved += total - start_at - result.token_layers / self.model.config.num_layers
        return result.logits, {s for s, _ in hits}

    def _save_finished_prompts(self, batch: ScheduledBatch, reused_starts: dict[int, set[int]]) -> None:
        for index, (seq, count) in enumerate(zip(batch.seqs, batch.num_new_tokens, strict=True)):
            done = seq.num_computed_tokens < seq.num_prompt_tokens <= seq.num_computed_tokens + count
            if not (seq.chunk_spans and done):
                continue
            self.counters.chunks_saved += self.store.save_spans(
                seq.token_ids[: seq.num_prompt_tokens],
                seq.chunk_spans,
                seq.params.cache_salt,
                seq.block_table,
                reused_starts.get(index, set()),
            )
