"""Our Llama over the paged KV pool must compute what HF transformers computes for the same
GGUF: next-token logits within 1e-3 (fp32), and the same greedy tokens."""

import random
from dataclasses import dataclass

import pytest
import torch

from gpu_backend.batch import StepBatch
from gpu_backend.kv import KVPool

BLOCK_SIZE = 16
LOGIT_TOLERANCE = 1e-3


@dataclass
class SeqStep:
    """One sequence's share of a step: its blocks, tokens already in the pool, new token ids."""

    blocks: list[int]
    num_cached: int
    new_ids: list[int]


def make_step(seqs: list[SeqStep]) -> tuple[torch.Tensor, torch.Tensor, StepBatch]:
    """input_ids, positions and the StepBatch the engine would build for `seqs`."""
    ids, positions, slots, lens, cu = [], [], [], [], [0]
    for seq in seqs:
        ids += seq.new_ids
        for pos in range(seq.num_cached, seq.num_cached + len(seq.new_ids)):
            positions.append(pos)
            slots.append(seq.blocks[pos // BLOCK_SIZE] * BLOCK_SIZE + pos % BLOCK_SIZE)
        lens.append(seq.num_cached + len(seq.new_ids))
        cu.append(cu[-1] + len(seq.new_ids))
    width = max(len(seq.blocks) for seq in seqs)
    batch = StepBatch(
        is_prefill=any(len(seq.new_ids) != 1 for seq in seqs),
        slot_mapping=torch.tensor(slots),
        block_tables=torch.tensor([seq.blocks + [0] * (width - len(seq.blocks)) for seq in seqs], dtype=torch.int32),
        context_lens=torch.tensor(lens, dtype=torch.int32),
        cu_seqlens_q=torch.tensor(cu, dtype=torch.int32),
        logits_indices=torch.tensor([end - 1 for end in cu[1:]]),
        max_seqlen_q=max(len(seq.new_ids) for seq in seqs),
        max_context_len=max(lens),
        # leading one-token rows take the decode attention path, as the engine's mixed steps do
        num_decode_seqs=next((i for i, seq in enumerate(seqs) if len(seq.new_ids) != 1), len(seqs)),
    )
    return torch.tensor(ids), torch.tensor(positions), batch


@pytest.fixture(scope="module")
def prompts(smollm2) -> list[list[int]]:
    tok, template = smollm2.tokenizer, smollm2.chat_template
    return [
        tok.encode(template.render([{"role": "user", "content": "What is the capital of France?"}])),
        tok.encode("The history of the Roman Empire begins"),
        tok.encode("def fibonacci(n):\n    if n < 2:\n        return n\n    return"),
    ]


@pytest.fixture(scope="module")
def hf_last_logits(hf_model, prompts) -> list[torch.Tensor]:
    with torch.inference_mode():
        return [hf_model(torch.tensor([ids])).logits[0, -1].float() for ids in prompts]


class Pool:
    """A small KV pool whose blocks are handed out in shuffled order."""

    def __init__(self, config, num_blocks: int = 48, seed: int = 0):
        self.kv = KVPool.create(num_blocks, config.num_layers, config.num_kv_heads, config.head_dim, BLOCK_SIZE)
        self.free = self.kv.allocator.allocate(num_blocks)
        random.Random(seed).shuffle(self.free)

    def blocks_for(self, num_tokens: int) -> list[int]:
        count = -(-num_tokens // BLOCK_SIZE)
        taken, self.free = self.free[:count], self.free[count:]
        return taken

    def run(self, model, seqs: list[SeqStep]) -> torch.Tensor:
        ids, positions, batch = make_step(seqs)
        return model(ids, positions, batch, self.kv.k_cache, self.kv.v_cache)


def max_diff(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return (ours - theirs).abs().max().item()


def test_single_sequence_logits_match_hf(smollm2, prompts, hf_last_logits):
    pool = Pool(smollm2.config)
    ids = prompts[0]
    logits = pool.run(smollm2.model, [SeqStep(pool.blocks_for(len(ids)), 0, ids)])
    assert logits.shape == (1, smollm2.config.vocab_size) and logits.dtype == torch.float32
    assert max_diff(logits[0], hf_last_logits[0]) < LOGIT_TOLERANCE


def test_packed_sequences_logits_match_hf(smollm2, prompts, hf_last_logits):
    pool = Pool(smollm2.config, seed=1)
    seqs = [SeqStep(pool.blocks_for(len(ids) + 8), 0, ids) for ids in prompts]
    logits = pool.run(smollm2.model, seqs)
    for row, reference in zip(logits, hf_last_logits):
        assert max_diff(row, reference) < LOGIT_TOLERANCE


@pytest.mark.parametrize("split", [BLOCK_SIZE, 21])  # block-aligned and mid-block cached prefixes
def test_cached_prefix_then_rest_matches_hf(smollm2, prompts, hf_last_logits, split):
    pool = Pool(smollm2.config, seed=split)
    first, second = prompts[0], prompts[1]
    first_blocks = pool.blocks_for(len(first))
    # step 1: the prefix of `first` alone; nothing sampled, as for an unfinished chunked prefill
    ids, positions, batch = make_step([SeqStep(first_blocks, 0, first[:split])])
    batch.logits_indices = torch.tensor([], dtype=torch.int64)
    assert smollm2.model(ids, positions, batch, pool.kv.k_cache, pool.kv.v_cache).shape == (0, smollm2.config.vocab_size)
    # step 2: the rest of `first` over its cached prefix, packed with a fresh prompt
    logits = pool.run(smollm2.model, [
        SeqStep(pool.blocks_for(len(second)), 0, second),
        SeqStep(first_blocks, split, first[split:]),
    ])
    assert max_diff(logits[0], hf_last_logits[1]) < LOGIT_TOLERANCE
    assert max_diff(logits[1], hf_last_logits[0]) < LOGIT_TOLERANCE


def test_a_mixed_step_of_decodes_and_a_prefill_matches_hf(smollm2, prompts, hf_last_logits):
    """One-token rows (a decode after a cached prefix) first, then a whole prompt: one step, both paths."""
    pool = Pool(smollm2.config, seed=3)
    first, second, third = prompts
    first_blocks, third_blocks = pool.blocks_for(len(first)), pool.blocks_for(len(third))
    pool.run(smollm2.model, [SeqStep(first_blocks, 0, first[:-1]), SeqStep(third_blocks, 0, third[:-1])])
    logits = pool.run(smollm2.model, [
        SeqStep(third_blocks, len(third) - 1, third[-1:]),
        SeqStep(first_blocks, len(first) - 1, first[-1:]),
        SeqStep(pool.blocks_for(len(second)), 0, second),
    ])
    for row, reference in zip(logits, [hf_last_logits[2], hf_last_logits[0], hf_last_logits[1]]):
        assert max_diff(row, reference) < LOGIT_TOLERANCE


def test_greedy_decode_over_paged_pool_matches_hf_generate(smollm2, hf_model, prompts):
    new_tokens = 16
    pool = Pool(smollm2.config, seed=2)
    chosen = prompts[:2]
    seqs = [SeqStep(pool.blocks_for(len(ids) + new_tokens), 0, ids) for ids in chosen]
    generated = [[] for _ in chosen]
    logits = pool.run(smollm2.model, seqs)
    for _ in range(new_tokens):
        for seq, out, row in zip(seqs, generated, logits):
            out.append(int(row.argmax()))
            seq.num_cached += len(seq.new_ids)
            seq.new_ids = [out[-1]]
        logits = pool.run(smollm2.model, seqs)  # a decode step: one new token per sequence

    eos = smollm2.tokenizer.eos_id
    with torch.inference_mode():
        for ids, ours in zip(chosen, generated):
            output = hf_model.generate(torch.tensor([ids]), max_new_tokens=new_tokens, do_sample=False, eos_token_id=eos)
            theirs = output[0, len(ids):].tolist()
            assert ours[: len(theirs)] == theirs
    assert smollm2.tokenizer.decode(generated[0]).startswith("The capital of France is Paris")
