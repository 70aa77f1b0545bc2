"""Kernels of the bundled backend: Triton on CUDA tensors, the torch reference otherwise,
except decode attention on a CPU, which runs a native kernel when it builds (cpu_decode_attention).

SEMGATE_KERNELS=torch|triton forces one implementation (read at every call, so tests can
switch it; torch runs the reference in place of the native kernel too); with
TRITON_INTERPRET=1 the Triton kernels also run on CPU tensors.
Layouts and semantics: see reference_attention.py and reference_norm_rope.py.
"""

import os
from collections.abc import Callable

import torch

from gpu_backend.errors import InvalidConfig
from gpu_backend.kernels import cpu_decode_attention as _cpu_decode
from gpu_backend.kernels import reference_attention as _ref_attn
from gpu_backend.kernels import reference_norm_rope as _ref_norm
from gpu_backend.kernels.reference_norm_rope import build_rope_cache

__all__ = [
    "apply_rope",
    "build_rope_cache",
    "fused_add_rms_norm",
    "paged_decode_attention",
    "paged_prefill_attention",
    "rms_norm",
    "store_kv",
    "use_triton",
]

# q, the layer's K and V pools, block tables, context lengths, scale -> attention output
DecodeAttention = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, float], torch.Tensor]


def use_triton(tensor: torch.Tensor) -> bool:
    """Whether a kernel called on `tensor` runs the Triton implementation."""
    choice = os.environ.get("SEMGATE_KERNELS", "")
    if choice == "torch":
        return False
    if choice == "triton":
        return True
    if choice:
        raise InvalidConfig(f"SEMGATE_KERNELS must be 'torch' or 'triton', got {choice!r}")
    return tensor.is_cuda


def store_kv(
    k: torch.Tensor,
    v: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    slot_mapping: torch.Tensor,
) -> None:
    if use_triton(k):
        from gpu_backend.kernels.triton_store_kv import store_kv as impl
    else:
        impl = _ref_attn.store_kv
    impl(k, v, k_cache_layer, v_cache_layer, slot_mapping)


def paged_decode_attention(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    block_tables: torch.Tensor,
    context_lens: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    impl: DecodeAttention
    if use_triton(q):
        from gpu_backend.kernels.triton_decode_attention import paged_decode_attention as impl
    elif os.environ.get("SEMGATE_KERNELS") != "torch" and _cpu_decode.supports(q, k_cache_layer, v_cache_layer):
        impl = _cpu_decode.paged_decode_attention
    else:
        impl = _ref_attn.paged_decode_attention
    return impl(q, k_cache_layer, v_cache_layer, block_tables, context_lens, scale)


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
    if use_triton(q):
        from gpu_backend.kernels.triton_prefill_attention import paged_prefill_attention as impl
    else:
        impl = _ref_attn.paged_prefill_attention
    return impl(q, k_cache_layer, v_cache_layer, block_tables, cu_seqlens_q, context_lens, scale, max_seqlen_q)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    if use_triton(x):
        from gpu_backend.kernels.triton_rms_norm import rms_norm as impl
    else:
        impl = _ref_norm.rms_norm
    return impl(x, weight, eps)


def fused_add_rms_norm(
    x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    if use_triton(x):
        from gpu_backend.kernels.triton_rms_norm import fused_add_rms_norm as impl
    else:
        impl = _ref_norm.fused_add_rms_norm
    return impl(x, residual, weight, eps)


def apply_rope(
    q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor, cos_sin: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    if use_triton(q):
        from gpu_backend.kernels.triton_rope import apply_rope as impl
    else:
        impl = _ref_norm.apply_rope
    return impl(q, k, positions, cos_sin)
