"""Triton: RMSNorm and the fused residual add + RMSNorm, one program per row."""

import torch
import triton
import triton.language as tl

from gpu_backend.errors import KernelInputError


@triton.jit
def _rms_norm_kernel(  # type: ignore[no-untyped-def]  # Triton reads annotations as kernel types
    x_ptr,
    residual_ptr,
    weight_ptr,
    out_ptr,
    sum_ptr,
    stride_x,
    stride_r,
    stride_o,
    stride_s,
    num_cols,
    eps,
    HAS_RESIDUAL: tl.constexpr,
    BLOCK_C: tl.constexpr,
):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK_C)
    mask = cols < num_cols
    x = tl.load(x_ptr + row * stride_x + cols, mask=mask, other=0.0)
    if HAS_RESIDUAL:
        x = x + tl.load(residual_ptr + row * stride_r + cols, mask=mask, other=0.0)
        tl.store(sum_ptr + row * stride_s + cols, x, mask=mask)
    x32 = x.to(tl.float32)
    inv_rms = tl.rsqrt(tl.sum(x32 * x32, axis=0) / num_cols + eps)
    weight = tl.load(weight_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    normed = x32 * inv_rms * weight
    tl.store(out_ptr + row * stride_o + cols, normed.to(out_ptr.dtype.element_ty), mask=mask)


def _launch(
    x: torch.Tensor, residual: torch.Tensor | None, weight: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    if x.stride(-1) != 1 or (residual is not None and residual.stride(-1) != 1):
        raise KernelInputError("rms_norm needs rows with contiguous columns")
    num_rows, num_cols = x.shape
    out = torch.empty_like(x)
    summed = torch.empty_like(x) if residual is not None else out
    block_c = triton.next_power_of_2(num_cols)
    if num_rows:
        _rms_norm_kernel[(num_rows,)](
            x,
            residual if residual is not None else x,
            weight,
            out,
            summed,
            x.stride(0),
            residual.stride(0) if residual is not None else 0,
            out.stride(0),
            summed.stride(0),
            num_cols,
            eps,
            HAS_RESIDUAL=residual is not None,
            BLOCK_C=block_c,
            num_warps=min(16, max(1, block_c // 256)),
        )
    return out, summed


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    return _launch(x, None, weight, eps)[0]


def fused_add_rms_norm(
    x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(rms_norm(x + residual), x + residual) in one pass over memory."""
    return _launch(x, residual, weight, eps)
