"""Triton: paged decode attention with GQA and split-KV (flash-decoding).

Stage 1, grid (B, Hkv, splits): each program takes the G = H // Hkv query heads that
share one KV head, so every K/V tile is loaded once per group, and runs an online
softmax over its slice of the context, BLOCK_N tokens (possibly several pages) per
step. Stage 2 merges the splits by their log-sum-exp. Splitting the context keeps the
GPU busy when the batch is small and contexts are long; with one split stage 1 writes
the final output and stage 2 is skipped.
"""

import torch
import triton
import triton.language as tl

from gpu_backend.errors import KernelInputError

_LOG2E = 1.4426950408889634


@triton.jit
def _decode_split_kernel(  # type: ignore[no-untyped-def]  # Triton reads annotations as kernel types
    q_ptr,
    k_cache_ptr,
    v_cache_ptr,
    block_tables_ptr,
    context_lens_ptr,
    out_ptr,
    lse_ptr,
    scale_log2,
    stride_qb,
    stride_qh,
    stride_cb,
    stride_cs,
    stride_ch,
    stride_bt,
    stride_ob,
    stride_oh,
    stride_os,
    stride_lb,
    stride_lh,
    block_size,
    group,
    head_dim,
    split_tokens,
    BLOCK_G: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_D: tl.constexpr,
    FP32_DOT: tl.constexpr,
):
    seq = tl.program_id(0).to(tl.int64)
    kv_head = tl.program_id(1)
    split = tl.program_id(2)
    context_len = tl.load(context_lens_ptr + seq)
    start = split * split_tokens
    end = tl.minimum(start + split_tokens, context_len)

    g = tl.arange(0, BLOCK_G)
    d = tl.arange(0, BLOCK_D)
    heads = kv_head * group + g
    g_mask = g < group
    d_mask = d < head_dim
    q = tl.load(
        q_ptr + seq * stride_qb + heads[:, None] * stride_qh + d[None, :],
        mask=g_mask[:, None] & d_mask[None, :],
        other=0.0,
    )

    m_i = tl.full([BLOCK_G], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_G], tl.float32)
    acc = tl.zeros([BLOCK_G, BLOCK_D], tl.float32)
    for tile_start in range(start, end, BLOCK_N):
        n = tile_start + tl.arange(0, BLOCK_N)
        n_mask = n < end
        page = tl.load(block_tables_ptr + seq * stride_bt + n // block_size, mask=n_mask, other=0)
        page = page.to(tl.int64)
        kv_offset = page * stride_cb + (n % block_size) * stride_cs + kv_head * stride_ch
        kv_mask = n_mask[:, None] & d_mask[None, :]
        k = tl.load(k_cache_ptr + kv_offset[:, None] + d[None, :], mask=kv_mask, other=0.0)
        v = tl.load(v_cache_ptr + kv_offset[:, None] + d[None, :], mask=kv_mask, other=0.0)
        if FP32_DOT:  # noqa: SIM108 - a constexpr if: Triton compiles only the branch it picks
            scores = tl.dot(q, tl.trans(k), input_precision="ieee")
        else:
            scores = tl.dot(q, tl.trans(k))
        scores = tl.where(n_mask[None, :], scores * scale_log2, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(scores, axis=1))
        p = tl.exp2(scores - m_new[:, None])
        alpha = tl.exp2(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, axis=1)
        if FP32_DOT:
            acc = acc * alpha[:, None] + tl.dot(p, v, input_precision="ieee")
        else:
            acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
        m_i = m_new

    # an empty slice (or empty context) leaves l_i = 0: output 0, lse -inf
    out = acc / tl.where(l_i > 0, l_i, 1.0)[:, None]
    tl.store(
        out_ptr + seq * stride_ob + heads[:, None] * stride_oh + split * stride_os + d[None, :],
        out.to(out_ptr.dtype.element_ty),
        mask=g_mask[:, None] & d_mask[None, :],
    )
    lse = tl.where(l_i > 0, m_i + tl.log2(tl.where(l_i > 0, l_i, 1.0)), float("-inf"))
    tl.store(lse_ptr + seq * stride_lb + heads * stride_lh + split, lse, mask=g_mask)


@triton.jit
def _merge_splits_kernel(  # type: ignore[no-untyped-def]  # Triton reads annotations as kernel types
    partial_ptr,
    lse_ptr,
    out_ptr,
    stride_pb,
    stride_ph,
    stride_ps,
    stride_lb,
    stride_lh,
    stride_ob,
    stride_oh,
    num_splits,
    head_dim,
    BLOCK_S: tl.constexpr,
    BLOCK_D: tl.constexpr,
):
    seq = tl.program_id(0).to(tl.int64)
    head = tl.program_id(1)
    s = tl.arange(0, BLOCK_S)
    d = tl.arange(0, BLOCK_D)
    s_mask = s < num_splits
    lse = tl.load(lse_ptr + seq * stride_lb + head * stride_lh + s, mask=s_mask, other=float("-inf"))
    top = tl.max(lse, axis=0)
    weights = tl.exp2(lse - tl.where(top == float("-inf"), 0.0, top))
    total = tl.sum(weights, axis=0)
    partial = tl.load(
        partial_ptr + seq * stride_pb + head * stride_ph + s[:, None] * stride_ps + d[None, :],
        mask=s_mask[:, None] & (d[None, :] < head_dim),
        other=0.0,
    ).to(tl.float32)
    out = tl.sum(partial * weights[:, None], axis=0) / tl.where(total > 0, total, 1.0)
    tl.store(out_ptr + seq * stride_ob + head * stride_oh + d, out.to(out_ptr.dtype.element_ty), mask=d < head_dim)


def _choose_splits(q: torch.Tensor, batch: int, num_kv_heads: int, max_tokens: int, block_n: int) -> int:
    """Enough programs to fill the GPU about twice; no sync (max_tokens is the table width)."""
    num_sms = torch.cuda.get_device_properties(q.device).multi_processor_count if q.is_cuda else 132
    wanted = triton.cdiv(2 * num_sms, max(1, batch * num_kv_heads))
    return max(1, min(wanted, triton.cdiv(max_tokens, 4 * block_n), 32))


def paged_decode_attention(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    block_tables: torch.Tensor,
    context_lens: torch.Tensor,
    scale: float,
    num_splits: int | None = None,
) -> torch.Tensor:
    """See reference_attention.paged_decode_attention; `num_splits` overrides the split-KV choice."""
    batch, num_heads, head_dim = q.shape
    block_size, num_kv_heads = k_cache_layer.shape[1], k_cache_layer.shape[2]
    if q.stride(-1) != 1 or k_cache_layer.stride(-1) != 1 or k_cache_layer.stride() != v_cache_layer.stride():
        raise KernelInputError("paged_decode_attention needs contiguous head_dim and one K/V cache layout")
    group = num_heads // num_kv_heads
    max_tokens = block_tables.shape[1] * block_size
    # 64 positions per step keep enough loads in flight; short tables get smaller tiles
    block_n = max(64 if max_tokens >= 256 else 16, triton.next_power_of_2(block_size))
    splits = num_splits or _choose_splits(q, batch, num_kv_heads, max_tokens, block_n)
    split_tokens = triton.cdiv(triton.cdiv(max_tokens, splits), block_n) * block_n
    splits = max(1, triton.cdiv(max_tokens, split_tokens))

    partial = torch.empty(
        batch, num_heads, splits, head_dim, device=q.device, dtype=q.dtype if splits == 1 else torch.float32
    )
    lse = torch.empty(batch, num_heads, splits, device=q.device, dtype=torch.float32)
    if batch == 0:
        return partial.view(batch, num_heads, head_dim).to(q.dtype)
    _decode_split_kernel[(batch, num_kv_heads, splits)](
        q,
        k_cache_layer,
        v_cache_layer,
        block_tables,
        context_lens,
        partial,
        lse,
        scale * _LOG2E,
        q.stride(0),
        q.stride(1),
        k_cache_layer.stride(0),
        k_cache_layer.stride(1),
        k_cache_layer.stride(2),
        block_tables.stride(0),
        partial.stride(0),
        partial.stride(1),
        partial.stride(2),
        lse.stride(0),
        lse.stride(1),
        block_size,
        group,
        head_dim,
        split_tokens,
        BLOCK_G=max(16, triton.next_power_of_2(group)),
        BLOCK_N=block_n,
        BLOCK_D=triton.next_power_of_2(head_dim),
        FP32_DOT=q.dtype == torch.float32,
        num_warps=4,
        num_stages=2,
    )
    if splits == 1:  # stage 1 already wrote the normalised output
        return partial.view(batch, num_heads, head_dim)
    out = torch.empty_like(q, memory_format=torch.contiguous_format)
    _merge_splits_kernel[(batch, num_heads)](
        partial,
        lse,
        out,
        partial.stride(0),
        partial.stride(1),
        partial.stride(2),
        lse.stride(0),
        lse.stride(1),
        out.stride(0),
        out.stride(1),
        splits,
        head_dim,
        BLOCK_S=triton.next_power_of_2(splits),
        BLOCK_D=triton.next_power_of_2(head_dim),
        num_warps=1,
    )
    return out
