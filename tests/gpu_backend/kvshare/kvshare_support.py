"""Shared helpers for the KVShare tests: one prompt at a time through the engine's own parts
(block manager, chunk store, KVShareRunner around the ModelRunner), and chunked prompts."""

from dataclasses import dataclass

import torch

from gpu_backend.engine import SamplingParams, Sequence
from gpu_backend.engine.block_manager import BlockManager, NoChunkStore
from gpu_backend.engine.model_runner import ModelRunner, StepRunner
from gpu_backend.engine.scheduled_batch import ScheduledBatch
from gpu_backend.kv import KVPool
from gpu_backend.kvshare import ChunkStore, KVShareRunner

SYSTEM = [{"role": "system", "content": "Answer with the intent label only."}]
EXAMPLES = [
    ("book me a flight to paris", "book_flight"),
    ("what is my account balance", "balance"),
    ("set an alarm for seven", "alarm"),
    ("play some jazz music", "play_music"),
]


@dataclass
class PrefillReport:
    logits: torch.Tensor  # [vocab] of the last prompt token
    num_cached: int  # tokens from the radix prefix cache
    num_reused: int  # tokens from stored chunks
    num_recomputed: int  # reused tokens recomputed in every layer anyway
    tokens_computed: float  # token x layer passes / num_layers: prefill compute in tokens
    exact_tokens: int  # leading tokens whose KV equals a full recompute


class Prefiller:
    """What the engine's step does for one sequence, minus scheduling and sampling, so that a
    test can read the prompt's logits: blocks from the block manager, logits from the runner."""

    def __init__(self, block_manager: BlockManager, runner: StepRunner, store: ChunkStore | None) -> None:
        self.block_manager = block_manager
        self.pool = block_manager.pool
        self.runner = runner
        self.store = store

    def prefill(self, seq: Sequence, spans: list[tuple[int, int]]) -> PrefillReport:
        manager, total = self.block_manager, seq.num_prompt_tokens
        seq.chunk_spans = list(spans)
        manager.match_cached_prefix(seq)
        assert manager.reserve(seq, total)
        cached, before = seq.num_cached_tokens, self.runner.stats()
        logits = self.runner.run(ScheduledBatch([seq], [total - cached]))[0]
        after = self.runner.stats()

        def grew(name: str) -> float:
            return after.get(name, 0) - before.get(name, 0)

        seq.num_computed_tokens = total
        manager.cache_computed_blocks(seq)
        return PrefillReport(logits, cached, int(grew("kvshare_tokens_reused")), int(grew("kvshare_tokens_recomputed")),
                             total - cached - grew("kvshare_prefill_tokens_saved"),
                             total if seq.num_exact_tokens is None else seq.num_exact_tokens)

    def decode(self, seq: Sequence, token: int) -> torch.Tensor:
        seq.token_ids.append(token)
        assert self.block_manager.reserve(seq, seq.num_computed_tokens + 1)
        logits = self.runner.run(ScheduledBatch([seq], [1]))[0]
        seq.num_computed_tokens += 1
        return logits

    def generate_greedy(self, seq: Sequence, spans: list[tuple[int, int]],
                        max_tokens: int) -> tuple[list[int], PrefillReport]:
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


def prefiller(smollm2, ratio: float, num_blocks: int = 64, block_size: int = 16, enable_prefix_cache: bool = True,
              store_blocks: int | None = None, chunk_reuse: bool = True) -> Prefiller:
    """`chunk_reuse=False`: no chunk store, the plain ModelRunner (a full recompute past the prefix)."""
    cfg = smollm2.config
    pool = KVPool.create(num_blocks, cfg.num_layers, cfg.num_kv_heads, cfg.head_dim, block_size)
    runner = ModelRunner(smollm2.model, pool)
    if not chunk_reuse:
        return Prefiller(BlockManager(pool, enable_prefix_cache, chunk_store=NoChunkStore()), runner, None)
    store = ChunkStore(pool, "smollm2-135m", store_blocks)
    manager = BlockManager(pool, enable_prefix_cache, chunk_store=store)
    return Prefiller(manager, KVShareRunner(runner, smollm2.model, manager, store, ratio), store)


def messages(order: list[int], question: str) -> tuple[list[dict], list[tuple[int, int]]]:
    turns = [t for i in order for t in ({"role": "user", "content": EXAMPLES[i][0]},
                                        {"role": "assistant", "content": EXAMPLES[i][1]})]
    chunks = [(1 + 2 * j, 3 + 2 * j) for j in range(len(order))]
    return [*SYSTEM, *turns, {"role": "user", "content": question}], chunks


_ids = iter(range(10**9))


def sequence(token_ids: list[int], salt: str = "") -> Sequence:
    return Sequence(next(_ids), list(token_ids), SamplingParams(max_tokens=8, temperature=0, cache_salt=salt))
