"""Every Triton kernel, run by Triton's interpreter on CPU tensors, against the torch reference.

Shapes stay tiny: the interpreter executes each program in Python/numpy.
"""

import importlib
import os

import pytest
import torch

from gpu_backend import kernels
from gpu_backend.kernels import reference_attention as ref_attn
from gpu_backend.kernels import reference_norm_rope as ref_norm

TRITON_MODULES = [
    "gpu_backend.kernels.triton_store_kv",
    "gpu_backend.kernels.triton_rms_norm",
    "gpu_backend.kernels.triton_rope",
    "gpu_backend.kernels.triton_decode_attention",
    "gpu_backend.kernels.triton_prefill_attention",
]
TOL = dict(atol=1e-4, rtol=1e-4)
BLOCK = 4


@pytest.fixture(scope="module", autouse=True)
def interpreted_triton():
    """Triton reads TRITON_INTERPRET when a kernel is decorated: (re)import the kernel
    modules with it set, so they run on the CPU whatever was imported before."""
    previous = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    for name in TRITON_MODULES:
        importlib.reload(importlib.import_module(name))
    yield
    if previous is None:
        del os.environ["TRITON_INTERPRET"]
    else:
        os.environ["TRITON_INTERPRET"] = previous


@pytest.fixture(autouse=True)
def triton_kernels(monkeypatch):
    monkeypatch.setenv("SEMGATE_KERNELS", "triton")


def random_pool(seq_lens, num_kv_heads, head_dim, seed):
    """A pool filled with random values and shuffled block tables for the given lengths."""
    gen = torch.Generator().manual_seed(seed)
    blocks_per_seq = [-(-n // BLOCK) for n in seq_lens]
    num_blocks = sum(blocks_per_seq) + 2
    k_cache = torch.randn(num_blocks, BLOCK, num_kv_heads, head_dim, generator=gen)
    v_cache = torch.randn(num_blocks, BLOCK, num_kv_heads, head_dim, generator=gen)
    order = torch.randperm(num_blocks, generator=gen)
    tables = torch.zeros(len(seq_lens), max(blocks_per_seq), dtype=torch.int32)
    used = 0
    for b, count in enumerate(blocks_per_seq):
        tables[b, :count] = order[used : used + count].int()
        used += count
    return k_cache, v_cache, tables, gen


def test_store_kv_matches_reference_and_skips_padding():
    gen = torch.Generator().manual_seed(0)
    qkv = torch.randn(5, 3 * 2 * 16, generator=gen)  # k, v as strided views of a fused projection
    k = qkv[:, :32].view(5, 2, 16)
    v = qkv[:, 32:64].view(5, 2, 16)
    slots = torch.tensor([7, 0, -1, 13, 2])
    expected_k, expected_v = torch.zeros(4, BLOCK, 2, 16), torch.zeros(4, BLOCK, 2, 16)
    ref_attn.store_kv(k, v, expected_k, expected_v, slots)
    k_cache, v_cache = torch.zeros_like(expected_k), torch.zeros_like(expected_v)
    kernels.store_kv(k, v, k_cache, v_cache, slots)
    assert torch.equal(k_cache, expected_k) and torch.equal(v_cache, expected_v)


def test_rms_norm_and_fused_add_match_reference():
    gen = torch.Generator().manual_seed(1)
    x, residual = torch.randn(3, 48, generator=gen), torch.randn(3, 48, generator=gen)
    weight = torch.randn(48, generator=gen)
    torch.testing.assert_close(kernels.rms_norm(x, weight, 1e-5), ref_norm.rms_norm(x, weight, 1e-5), **TOL)
    normed, summed = kernels.fused_add_rms_norm(x, residual, weight, 1e-5)
    expected_normed, expected_summed = ref_norm.fused_add_rms_norm(x, residual, weight, 1e-5)
    torch.testing.assert_close(summed, expected_summed, **TOL)
    torch.testing.assert_close(normed, expected_normed, **TOL)


def test_rope_matches_reference():
    gen = torch.Generator().manual_seed(2)
    cos_sin = kernels.build_rope_cache(16, 32, 10000.0, "cpu", torch.float32)
    q = torch.randn(4, 3, 16, generator=gen)
    k = torch.randn(4, 1, 16, generator=gen)
    positions = torch.tensor([0, 5, 17, 31])
    q_rot, k_rot = kernels.apply_rope(q, k, positions, cos_sin)
    expected_q, expected_k = ref_norm.apply_rope(q, k, positions, cos_sin)
    torch.testing.assert_close(q_rot, expected_q, **TOL)
    torch.testing.assert_close(k_rot, expected_k, **TOL)


@pytest.mark.parametrize("num_splits", [1, 3])
def test_decode_attention_matches_reference(num_splits):
    """One split, and three 16-token splits merged (the short sequence leaves two empty)."""
    from gpu_backend.kernels.triton_decode_attention import paged_decode_attention

    seq_lens = [3, 40]
    k_cache, v_cache, tables, gen = random_pool(seq_lens, num_kv_heads=2, head_dim=16, seed=3)
    q = torch.randn(2, 4, 16, generator=gen)
    lens = torch.tensor(seq_lens, dtype=torch.int32)
    out = paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.25, num_splits=num_splits)
    expected = ref_attn.paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.25)
    torch.testing.assert_close(out, expected, **TOL)


def test_decode_attention_through_dispatch_gives_zero_for_empty_context():
    k_cache, v_cache, tables, gen = random_pool([5, 6], num_kv_heads=1, head_dim=16, seed=4)
    q = torch.randn(2, 2, 16, generator=gen)
    lens = torch.tensor([0, 6], dtype=torch.int32)
    out = kernels.paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.25)
    expected = ref_attn.paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.25)
    assert torch.equal(out[0], torch.zeros(2, 16))
    torch.testing.assert_close(out, expected, **TOL)


def test_prefill_attention_with_cached_prefix_matches_reference():
    # all 7 tokens new; 9 cached + 3 new; 25 cached + 20 new (two query tiles, and key
    # tiles wholly below the diagonal)
    seq_lens, num_new = [7, 12, 45], [7, 3, 20]
    k_cache, v_cache, tables, gen = random_pool(seq_lens, num_kv_heads=2, head_dim=16, seed=5)
    q = torch.randn(sum(num_new), 4, 16, generator=gen)
    cu = torch.tensor([0, 7, 10, 30], dtype=torch.int32)
    lens = torch.tensor(seq_lens, dtype=torch.int32)
    out = kernels.paged_prefill_attention(q, k_cache, v_cache, tables, cu, lens, 0.25, max(num_new))
    expected = ref_attn.paged_prefill_attention(q, k_cache, v_cache, tables, cu, lens, 0.25, max(num_new))
    torch.testing.assert_close(out, expected, **TOL)


def test_attention_in_half_precision_matches_float32_reference():
    # float16 only: the interpreter's tl.dot mishandles bfloat16 operands
    seq_lens = [9, 12]
    k_cache, v_cache, tables, gen = random_pool(seq_lens, num_kv_heads=2, head_dim=16, seed=6)
    q = torch.randn(8, 4, 16, generator=gen)
    lens = torch.tensor(seq_lens, dtype=torch.int32)
    cu = torch.tensor([0, 5, 8], dtype=torch.int32)
    half = [t.half() for t in (q, k_cache, v_cache)]
    out = kernels.paged_prefill_attention(half[0], half[1], half[2], tables, cu, lens, 0.25, 5)
    expected = ref_attn.paged_prefill_attention(q, k_cache, v_cache, tables, cu, lens, 0.25, 5)
    torch.testing.assert_close(out.float(), expected, atol=3e-3, rtol=3e-3)
    out = kernels.paged_decode_attention(half[0][:2], half[1], half[2], tables, lens, 0.25)
    expected = ref_attn.paged_decode_attention(q[:2], k_cache, v_cache, tables, lens, 0.25)
    torch.testing.assert_close(out.float(), expected, atol=3e-3, rtol=3e-3)
