"""Triton: causal prefill attention over the paged pool (cached prefix + new tokens).

Grid (query tiles, sequences, heads). A program holds BLOCK_M new tokens of one head
and streams that sequence's keys/values from the pool, BLOCK_N positions per step
(gathered across pages through the block table), with an online softmax. Keys below
the tile's first position need no causal mask, so only the diagonal tiles pay for it.
"""

import torch
import triton
import triton.language as tl

from gpu_backend.errors import KernelInputError

_LOG2E = 1.4426950408889634


@triton.jit
def _prefill_kernel(  # type: ignore[no-untyped-def]  # Triton reads annotations as kernel types
    q_ptr,
    k_cache_ptr,
    v_cache_ptr,
    block_tables_ptr,
    cu_seqlens_ptr,
    context_lens_ptr,
    out_ptr,
    scale_log2,
    stride_qt,
    stride_qh,
    stride_ot,
    stride_oh,
    stride_cb,
    stride_cs,
    stride_ch,
    stride_bt,
    block_size,
    group,
    head_dim,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_D: tl.constexpr,
    FP32_DOT: tl.constexpr,
):
    tile = tl.program_id(0)
    seq = tl.program_id(1).to(tl.int64)
    head = tl.program_id(2)
    q_start = tl.load(cu_seqlens_ptr + seq)
    num_new = tl.load(cu_seqlens_ptr + seq + 1) - q_start
    if tile * BLOCK_M < num_new:
        kv_head = head // group
        context_len = tl.load(context_lens_ptr + seq)
        prefix = context_len - num_new

        i = tile * BLOCK_M + tl.arange(0, BLOCK_M)
        d = tl.arange(0, BLOCK_D)
        i_mask = i < num_new
        d_mask = d < head_dim
        rows = (q_start + i).to(tl.int64)
        q = tl.load(
            q_ptr + rows[:, None] * stride_qt + head * stride_qh + d[None, :],
            mask=i_mask[:, None] & d_mask[None, :],
            other=0.0,
        )
        query_pos = prefix + i

        m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
        l_i = tl.zeros([BLOCK_M], tl.float32)
        acc = tl.zeros([BLOCK_M, BLOCK_D], tl.float32)
        first_query = prefix + tile * BLOCK_M
        end = tl.minimum(context_len, first_query + BLOCK_M)
        for tile_start in range(0, end, BLOCK_N):
            n = tile_start + tl.arange(0, BLOCK_N)
            n_mask = n < end
            page = tl.load(block_tables_ptr + seq * stride_bt + n // block_size, mask=n_mask, other=0)
            page = page.to(tl.int64)
            kv_offset = page * stride_cb + (n % block_size) * stride_cs + kv_head * stride_ch
            kv_mask = n_mask[:, None] & d_mask[None, :]
            k = tl.load(k_cache_ptr + kv_offset[:, None] + d[None, :], mask=kv_mask, other=0.0)
            v = tl.load(v_cache_ptr + kv_offset[:, None] + d[None, :], mask=kv_mask, other=0.0)
            if FP32_DOT:
                scores = tl.dot(q, tl.trans(k), input_precision="ieee") * scale_log2
            else:
                scores = tl.dot(q, tl.trans(k)) * scale_log2
            if tile_start + BLOCK_N > first_query:  # diagonal tile: causal mask
                scores = tl.where(n[None, :] <= query_pos[:, None], scores, float("-inf"))
            scores = tl.where(n_mask[None, :], scores, float("-inf"))
            m_new = tl.maximum(m_i, tl.max(scores, axis=1))
            p = tl.exp2(scores - m_new[:, None])
            alpha = tl.exp2(m_i - m_new)
            l_i = l_i * alpha + tl.sum(p, axis=1)
            if FP32_DOT:
                acc = acc * alpha[:, None] + tl.dot(p, v, input_precision="ieee")
            else:
                acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
            m_i = m_new

        out = acc / l_i[:, None]  # position 0 is visible to every row: l_i > 0
        tl.store(
            out_ptr + rows[:, None] * stride_ot + head * stride_oh + d[None, :],
            out.to(out_ptr.dtype.element_ty),
            mask=i_mask[:, None] & d_mask[None, :],
        )


def paged_prefill_attention(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    block_tables: torch.Tensor,
    cu_seqlens_q: torch.Tensor,
    context_lens: torch.Tensor,
    scale: float,
    max_seqlen_q: int,
) -> torch.Tensor:
    """See reference_attention.paged_prefill_attention."""
    num_tokens, num_heads, head_dim = q.shape
    block_size, num_kv_heads = k_cache_layer.shape[1], k_cache_layer.shape[2]
    if q.stride(-1) != 1 or k_cache_layer.stride(-1) != 1 or k_cache_layer.stride() != v_cache_layer.stride():
        raise KernelInputError("paged_prefill_attention needs contiguous head_dim and one K/V cache layout")
    out = torch.empty(num_tokens, num_heads, head_dim, device=q.device, dtype=q.dtype)
    num_seqs = context_lens.shape[0]
    if num_tokens == 0 or num_seqs == 0:
        return out
    block_d = triton.next_power_of_2(head_dim)
    block_m = 64 if max_seqlen_q > 32 and block_d <= 128 else 16
    block_n = max(block_m if block_d <= 64 else 32, triton.next_power_of_2(block_size))
    grid = (triton.cdiv(max_seqlen_q, block_m), num_seqs, num_heads)
    _prefill_kernel[grid](
        q,
        k_cache_layer,
        v_cache_layer,
        block_tables,
        cu_seqlens_q,
        context_lens,
        out,
        scale * _LOG2E,
        q.stride(0),
        q.stride(1),
        out.stride(0),
        out.stride(1),
        k_cache_layer.stride(0),
        k_cache_layer.stride(1),
        k_cache_layer.stride(2),
        block_tables.stride(0),
        block_size,
        num_heads // num_kv_heads,
        head_dim,
        BLOCK_M=block_m,
        BLOCK_N=block_n,
        BLOCK_D=block_d,
        FP32_DOT=q.dtype == torch.float32,
        num_warps=4 if block_m <= 16 or block_d <= 64 else 8,
        num_stages=2,
    )
    return out
