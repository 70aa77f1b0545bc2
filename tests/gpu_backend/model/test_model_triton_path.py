"""The model gives the same logits through the Triton kernels (run by Triton's interpreter
on the CPU) as through the torch reference: the views it hands the kernels (q/k/v split
out of one fused matmul) are laid out the way the Triton kernels accept."""

import os
import subprocess
import sys
from pathlib import Path

import torch

from gpu_backend.batch import StepBatch
from gpu_backend.gpu_check.logits_check import TINY, tiny_model
from gpu_backend.model import LlamaModel

CONFIG = TINY  # gpu-check's tiny random Llama: the same model on both paths here


def two_steps(model: LlamaModel) -> list[torch.Tensor]:
    """A prefill (seq 0 fresh over 2 blocks, seq 1 fresh over 1) and then one decode step."""
    k = torch.zeros(CONFIG.num_layers, 6, 8, CONFIG.num_kv_heads, CONFIG.head_dim)
    v = torch.zeros_like(k)
    tables = torch.tensor([[4, 1], [2, 0]], dtype=torch.int32)
    ids = torch.randint(0, CONFIG.vocab_size, (17,), generator=torch.Generator().manual_seed(1))
    prefill = StepBatch(
        is_prefill=True, slot_mapping=torch.tensor([*range(32, 40), *range(8, 11), *range(16, 22)]),
        block_tables=tables, context_lens=torch.tensor([11, 6], dtype=torch.int32),
        cu_seqlens_q=torch.tensor([0, 11, 17], dtype=torch.int32), logits_indices=torch.tensor([10, 16]),
        max_seqlen_q=11, max_context_len=11,
    )
    positions = torch.cat([torch.arange(11), torch.arange(6)])
    decode = StepBatch(
        is_prefill=False, slot_mapping=torch.tensor([11, 22]), block_tables=tables,
        context_lens=torch.tensor([12, 7], dtype=torch.int32), cu_seqlens_q=torch.tensor([0, 1, 2], dtype=torch.int32),
        logits_indices=torch.tensor([0, 1]), max_seqlen_q=1, max_context_len=12,
    )
    return [model(ids, positions, prefill, k, v), model(ids[:2], torch.tensor([11, 6]), decode, k, v)]


def test_triton_kernels_give_reference_logits(tmp_path, monkeypatch):
    # Triton decides at import time whether its own library (tl.sum, ...) is interpreted, and
    # transformers imports triton: so the interpreted run gets a fresh interpreter.
    env = {**os.environ, "TRITON_INTERPRET": "1", "SEMGATE_KERNELS": "triton"}
    out = tmp_path / "triton_logits.pt"
    subprocess.run([sys.executable, __file__, str(out)], env=env, check=True, cwd=Path(__file__).parents[3])
    monkeypatch.setenv("SEMGATE_KERNELS", "torch")
    expected = two_steps(tiny_model())
    for ours, reference in zip(torch.load(out), expected):
        torch.testing.assert_close(ours, reference, atol=1e-4, rtol=1e-4)


if __name__ == "__main__":
    torch.save(two_steps(tiny_model()), sys.argv[1])
