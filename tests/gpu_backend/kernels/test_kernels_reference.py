"""The torch reference kernels (the CPU engine path) against plain dense attention."""

import math

import pytest
import torch

from gpu_backend import kernels
from gpu_backend.kernels import reference_attention as ref_attn

BLOCK = 4


@pytest.fixture(autouse=True)
def torch_kernels(monkeypatch):
    monkeypatch.setenv("SEMGATE_KERNELS", "torch")


def dense_causal_attention(q, k, v, scale, offset):
    """q [n, H, D] at positions offset..offset+n-1 over k, v [L, Hkv, D] at 0..L-1."""
    group = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    scores = torch.einsum("nhd,lhd->hnl", q, k) * scale
    query_pos = torch.arange(q.shape[0])[:, None] + offset
    scores = scores.masked_fill(torch.arange(k.shape[0])[None, :] > query_pos, float("-inf"))
    return torch.einsum("hnl,lhd->nhd", scores.softmax(-1), v)


def fill_pool(seq_lens, num_kv_heads, head_dim, generator):
    """Random K/V per sequence, written with store_kv to blocks in shuffled order."""
    num_blocks = sum(-(-n // BLOCK) for n in seq_lens) + 3
    k_cache = torch.zeros(num_blocks, BLOCK, num_kv_heads, head_dim)
    v_cache = torch.zeros_like(k_cache)
    free = torch.randperm(num_blocks, generator=generator).tolist()
    max_blocks = max(-(-n // BLOCK) for n in seq_lens)
    tables = torch.zeros(len(seq_lens), max_blocks, dtype=torch.int32)
    dense = []
    for b, n in enumerate(seq_lens):
        blocks = [free.pop() for _ in range(-(-n // BLOCK))]
        tables[b, : len(blocks)] = torch.tensor(blocks)
        k = torch.randn(n, num_kv_heads, head_dim, generator=generator)
        v = torch.randn(n, num_kv_heads, head_dim, generator=generator)
        slots = torch.tensor([blocks[i // BLOCK] * BLOCK + i % BLOCK for i in range(n)])
        kernels.store_kv(k, v, k_cache, v_cache, slots)
        dense.append((k, v))
    return k_cache, v_cache, tables, dense


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("num_heads,num_kv_heads", [(4, 4), (6, 2), (9, 3)])
def test_decode_matches_dense_attention(seed, num_heads, num_kv_heads):
    gen = torch.Generator().manual_seed(seed)
    head_dim = 16
    seq_lens = torch.randint(1, 30, (3,), generator=gen).tolist()
    k_cache, v_cache, tables, dense = fill_pool(seq_lens, num_kv_heads, head_dim, gen)
    q = torch.randn(len(seq_lens), num_heads, head_dim, generator=gen)
    scale = 1 / math.sqrt(head_dim)
    lens = torch.tensor(seq_lens, dtype=torch.int32)
    out = kernels.paged_decode_attention(q, k_cache, v_cache, tables, lens, scale)
    for b, (k, v) in enumerate(dense):
        expected = dense_causal_attention(q[b : b + 1], k, v, scale, offset=len(k) - 1)
        torch.testing.assert_close(out[b : b + 1], expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_decode_of_a_large_batch_in_any_order_matches_dense_attention(seed):
    """Many lengths spanning many blocks, unsorted: several length groups, each padded to its own longest."""
    gen = torch.Generator().manual_seed(seed)
    head_dim, num_heads, num_kv_heads = 8, 6, 2
    seq_lens = torch.randint(1, 60, (13,), generator=gen).tolist()
    k_cache, v_cache, tables, dense = fill_pool(seq_lens, num_kv_heads, head_dim, gen)
    q = torch.randn(len(seq_lens), num_heads, head_dim, generator=gen)
    lens = torch.tensor(seq_lens, dtype=torch.int32)
    out = kernels.paged_decode_attention(q, k_cache, v_cache, tables, lens, 0.3)
    for b, (k, v) in enumerate(dense):
        expected = dense_causal_attention(q[b : b + 1], k, v, 0.3, offset=len(k) - 1)
        torch.testing.assert_close(out[b : b + 1], expected, atol=1e-5, rtol=1e-5)
    order = torch.argsort(lens)
    in_order = kernels.paged_decode_attention(q[order], k_cache, v_cache, tables[order], lens[order], 0.3)
    assert torch.equal(in_order, out[order])


def test_length_groups_pad_each_group_to_its_own_longest():
    assert ref_attn.length_groups([3, 4, 20, 21, 40, 41, 90, 99], block_size=4, max_groups=4) == [
        (0, 2, 1), (2, 4, 6), (4, 6, 11), (6, 8, 25)]
    assert ref_attn.length_groups([5, 6, 7, 8], block_size=16, max_groups=4) == [(0, 4, 1)]
    assert ref_attn.length_groups([0], block_size=16) == [(0, 1, 1)]


def test_decode_of_empty_context_is_zero_not_nan():
    k_cache = torch.randn(2, BLOCK, 1, 8)
    q = torch.randn(2, 2, 8)
    tables = torch.tensor([[0], [1]], dtype=torch.int32)
    lens = torch.tensor([0, 3], dtype=torch.int32)
    out = kernels.paged_decode_attention(q, k_cache, k_cache, tables, lens, 0.3)
    assert torch.equal(out[0], torch.zeros(2, 8)) and torch.isfinite(out).all()


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("num_heads,num_kv_heads", [(2, 2), (6, 2), (9, 3)])
def test_prefill_with_cached_prefix_matches_dense_attention(seed, num_heads, num_kv_heads):
    gen = torch.Generator().manual_seed(seed)
    head_dim = 8
    seq_lens = torch.randint(1, 26, (3,), generator=gen).tolist()
    # new tokens per sequence: all of it, part of it (cached prefix), or one token
    num_new = [n if b == 0 else max(1, n // (b + 1)) for b, n in enumerate(seq_lens)]
    k_cache, v_cache, tables, dense = fill_pool(seq_lens, num_kv_heads, head_dim, gen)
    q = torch.randn(sum(num_new), num_heads, head_dim, generator=gen)
    cu = torch.tensor([0] + torch.tensor(num_new).cumsum(0).tolist(), dtype=torch.int32)
    scale = 0.37
    out = kernels.paged_prefill_attention(
        q, k_cache, v_cache, tables, cu, torch.tensor(seq_lens, dtype=torch.int32), scale, max(num_new)
    )
    for b, (k, v) in enumerate(dense):
        start, end = int(cu[b]), int(cu[b + 1])
        expected = dense_causal_attention(q[start:end], k, v, scale, offset=len(k) - num_new[b])
        torch.testing.assert_close(out[start:end], expected, atol=1e-5, rtol=1e-5)


def test_store_kv_writes_slots_and_skips_padding():
    k_cache = torch.zeros(3, BLOCK, 2, 4)
    v_cache = torch.zeros_like(k_cache)
    k = torch.randn(3, 2, 4)
    kernels.store_kv(k, -k, k_cache, v_cache, torch.tensor([9, -1, 2]))
    assert torch.equal(k_cache[2, 1], k[0]) and torch.equal(v_cache[0, 2], -k[2])
    assert int((k_cache != 0).any(-1).any(-1).sum()) == 2


def test_rms_norm_and_fused_add():
    gen = torch.Generator().manual_seed(0)
    x, residual, weight = (torch.randn(5, 32, generator=gen) for _ in range(3))
    weight = weight[0]
    expected = x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-6) * weight
    torch.testing.assert_close(kernels.rms_norm(x, weight, 1e-6), expected)
    normed, summed = kernels.fused_add_rms_norm(x, residual, weight, 1e-6)
    torch.testing.assert_close(summed, x + residual)
    torch.testing.assert_close(normed, kernels.rms_norm(x + residual, weight, 1e-6))


def rotate_half_reference(x, position, head_dim, theta):
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2).double() / head_dim)
    angle = torch.cat([position * inv_freq] * 2)
    rotated = torch.cat([-x[..., head_dim // 2 :], x[..., : head_dim // 2]], dim=-1)
    return (x.double() * angle.cos() + rotated.double() * angle.sin()).float()


def test_rope_matches_hf_rotate_half_and_keeps_relative_positions():
    gen = torch.Generator().manual_seed(0)
    head_dim, theta = 16, 10000.0
    cos_sin = kernels.build_rope_cache(head_dim, 64, theta, "cpu", torch.float32)
    assert cos_sin.shape == (64, head_dim)
    q = torch.randn(3, 4, head_dim, generator=gen)
    k = torch.randn(3, 2, head_dim, generator=gen)
    positions = torch.tensor([0, 7, 63])
    q_rot, k_rot = kernels.apply_rope(q, k, positions, cos_sin)
    assert torch.equal(q_rot[0], q[0])  # position 0 is the identity
    for t, pos in enumerate(positions.tolist()):
        torch.testing.assert_close(q_rot[t], rotate_half_reference(q[t], pos, head_dim, theta))
        torch.testing.assert_close(k_rot[t], rotate_half_reference(k[t], pos, head_dim, theta))
    # q.k depends only on the distance between positions
    one_q, one_k = q[:1].expand(4, -1, -1), k[:1].expand(4, -1, -1)
    q_at, _ = kernels.apply_rope(one_q, one_k, torch.tensor([10, 20, 0, 0]), cos_sin)
    _, k_at = kernels.apply_rope(one_q, one_k, torch.tensor([0, 0, 3, 13]), cos_sin)
    dot_a = (q_at[0, 0] * k_at[2, 0]).sum()  # distance 7
    dot_b = (q_at[1, 0] * k_at[3, 0]).sum()  # distance 7
    torch.testing.assert_close(dot_a, dot_b, atol=1e-4, rtol=1e-4)


def test_unknown_kernel_choice_is_rejected(monkeypatch):
    monkeypatch.setenv("SEMGATE_KERNELS", "cuda")
    with pytest.raises(ValueError, match="SEMGATE_KERNELS"):
        kernels.rms_norm(torch.ones(1, 4), torch.ones(4), 1e-6)
