"""Triton: rotary embedding (rotate-half layout) of q and k, one program per token."""

import torch
import triton
import triton.language as tl

from gpu_backend.errors import KernelInputError


@triton.jit
def _rotate_heads(  # type: ignore[no-untyped-def]  # Triton reads annotations as kernel types
    src_ptr,
    dst_ptr,
    token,
    stride_t,
    stride_h,
    dst_stride_t,
    dst_stride_h,
    num_heads,
    half,
    cos,
    sin,
    BLOCK_H: tl.constexpr,
    BLOCK_HALF: tl.constexpr,
):
    heads = tl.arange(0, BLOCK_H)[:, None]
    dims = tl.arange(0, BLOCK_HALF)[None, :]
    mask = (heads < num_heads) & (dims < half)
    src = src_ptr + token * stride_t + heads * stride_h + dims
    x1 = tl.load(src, mask=mask, other=0.0).to(tl.float32)
    x2 = tl.load(src + half, mask=mask, other=0.0).to(tl.float32)
    dst = dst_ptr + token * dst_stride_t + heads * dst_stride_h + dims
    tl.store(dst, (x1 * cos - x2 * sin).to(dst_ptr.dtype.element_ty), mask=mask)
    tl.store(dst + half, (x2 * cos + x1 * sin).to(dst_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _rope_kernel(  # type: ignore[no-untyped-def]  # Triton reads annotations as kernel types
    q_ptr,
    k_ptr,
    q_out_ptr,
    k_out_ptr,
    pos_ptr,
    cos_sin_ptr,
    stride_qt,
    stride_qh,
    stride_kt,
    stride_kh,
    stride_oqt,
    stride_oqh,
    stride_okt,
    stride_okh,
    stride_cs,
    num_heads,
    num_kv_heads,
    half,
    BLOCK_H: tl.constexpr,
    BLOCK_HKV: tl.constexpr,
    BLOCK_HALF: tl.constexpr,
):
    token = tl.program_id(0).to(tl.int64)
    pos = tl.load(pos_ptr + token).to(tl.int64)
    dims = tl.arange(0, BLOCK_HALF)[None, :]
    cos = tl.load(cos_sin_ptr + pos * stride_cs + dims, mask=dims < half, other=1.0).to(tl.float32)
    sin = tl.load(cos_sin_ptr + pos * stride_cs + half + dims, mask=dims < half, other=0.0).to(tl.float32)
    _rotate_heads(
        q_ptr,
        q_out_ptr,
        token,
        stride_qt,
        stride_qh,
        stride_oqt,
        stride_oqh,
        num_heads,
        half,
        cos,
        sin,
        BLOCK_H,
        BLOCK_HALF,
    )
    _rotate_heads(
        k_ptr,
        k_out_ptr,
        token,
        stride_kt,
        stride_kh,
        stride_okt,
        stride_okh,
        num_kv_heads,
        half,
        cos,
        sin,
        BLOCK_HKV,
        BLOCK_HALF,
    )


def apply_rope(
    q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor, cos_sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    num_tokens, num_heads, head_dim = q.shape
    num_kv_heads = k.shape[1]
    if q.stride(-1) != 1 or k.stride(-1) != 1 or cos_sin.stride(-1) != 1:
        raise KernelInputError("apply_rope needs the head_dim axis of q, k and cos_sin to be contiguous")
    q_out, k_out = torch.empty_like(q), torch.empty_like(k)
    if num_tokens:
        half = head_dim // 2
        _rope_kernel[(num_tokens,)](
            q,
            k,
            q_out,
            k_out,
            positions,
            cos_sin,
            q.stride(0),
            q.stride(1),
            k.stride(0),
            k.stride(1),
            q_out.stride(0),
            q_out.stride(1),
            k_out.stride(0),
            k_out.stride(1),
            cos_sin.stride(0),
            num_heads,
            num_kv_heads,
            half,
            BLOCK_H=triton.next_power_of_2(num_heads),
            BLOCK_HKV=triton.next_power_of_2(num_kv_heads),
            BLOCK_HALF=triton.next_power_of_2(half),
            num_warps=1 if num_heads * head_dim <= 512 else 4,
        )
    return q_out, k_out
