"""Paged decode attention on a CPU through the native kernel (cpu_decode_attention.c).

Same contract as reference_attention.paged_decode_attention, for float32 tensors on a CPU with
a head size that is a multiple of 8. It reads keys and values in place from the pool instead of
gathering them into a padded copy first: at 32 sequences of ~128 tokens, 30 layers, 2 threads,
a decode step's attention takes 20-22 ms against the reference's 64-82 ms (`semgate bench
decode-attention`). Before the kernel is used, it must match the reference on a probe batch
(`available`); otherwise the torch path stays.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache

import torch

from gpu_backend.errors import KernelInputError, KernelUnavailable
from gpu_backend.kernels import cpu_native
from gpu_backend.kernels.reference_attention import paged_decode_attention as reference_decode

_P, _I = ctypes.c_void_p, ctypes.c_int64
_ARGTYPES = (_P, _P, _P, _P, _I, _P, _P, _I, _I, _I, _I, _I, _I, ctypes.c_float, _I)
PROBE_TOLERANCE = 1e-5


def supports(q: torch.Tensor, k_cache_layer: torch.Tensor, v_cache_layer: torch.Tensor) -> bool:
    """Whether the native kernel takes these tensors (and was built and checked)."""
    return _fits(q, k_cache_layer, v_cache_layer) and available()


@cache
def available() -> bool:
    """The kernel built, loaded and matched the torch reference on a probe batch."""
    if _kernel() is None:
        return False
    generator = torch.Generator().manual_seed(0)
    k_cache, v_cache = (torch.randn(12, 4, 2, 16, generator=generator) for _ in range(2))
    q = torch.randn(5, 6, 16, generator=generator)
    tables = torch.randperm(12, generator=generator)[:10].view(5, 2).int()
    lens = torch.tensor([0, 1, 4, 7, 8], dtype=torch.int32)
    expected = reference_decode(q, k_cache, v_cache, tables, lens, 0.25)
    error = (_run(q, k_cache, v_cache, tables, lens, 0.25) - expected).abs().max().item()
    if not error <= PROBE_TOLERANCE:
        cpu_native.log.warning(
            "native decode attention disagrees with the torch reference (max error %g): the torch path runs instead",
            error,
        )
        return False
    return True


def paged_decode_attention(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    block_tables: torch.Tensor,
    context_lens: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    """q [B, H, D] attending to its first context_lens[b] pool positions; zeros for an empty context."""
    _check_shapes(q, k_cache_layer, v_cache_layer)
    if q.shape[0] == 0:
        return torch.empty_like(q)
    return _run(
        q,
        k_cache_layer,
        v_cache_layer,
        block_tables.to("cpu", torch.int32).contiguous(),
        context_lens.to("cpu", torch.int32).contiguous(),
        scale,
    )


def _fits(q: torch.Tensor, k_cache_layer: torch.Tensor, v_cache_layer: torch.Tensor) -> bool:
    return (
        q.dim() == 3
        and k_cache_layer.dim() == 4
        and k_cache_layer.shape == v_cache_layer.shape
        and k_cache_layer.shape[3] == q.shape[2]
        and q.shape[1] % k_cache_layer.shape[2] == 0
        and q.shape[2] % 8 == 0
        and k_cache_layer.is_contiguous()
        and v_cache_layer.is_contiguous()
        and {q.dtype, k_cache_layer.dtype, v_cache_layer.dtype} == {torch.float32}
        and {q.device.type, k_cache_layer.device.type, v_cache_layer.device.type} == {"cpu"}
    )


def _check_shapes(q: torch.Tensor, k_cache_layer: torch.Tensor, v_cache_layer: torch.Tensor) -> None:
    """The kernel takes its shapes on trust: a wrong one is an error here, not a stray read."""
    if not _fits(q, k_cache_layer, v_cache_layer):
        raise KernelInputError(
            f"decode attention needs float32 CPU tensors: q [B, H, D] with D a multiple of 8, "
            f"contiguous pool layers [blocks, block_size, Hkv, D] with Hkv dividing H; got q "
            f"{tuple(q.shape)}, k {tuple(k_cache_layer.shape)}, v {tuple(v_cache_layer.shape)}"
        )


def _run(
    q: torch.Tensor,
    k_cache_layer: torch.Tensor,
    v_cache_layer: torch.Tensor,
    tables: torch.Tensor,
    lens: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    kernel = _kernel()
    if kernel is None:
        raise KernelUnavailable("the native decode attention kernel did not build or load (see the log)")
    q = q.contiguous()
    batch, heads, head_dim = q.shape
    num_blocks, block_size, kv_heads = k_cache_layer.shape[:3]
    out = torch.empty_like(q)
    status = kernel(
        q.data_ptr(),
        k_cache_layer.data_ptr(),
        v_cache_layer.data_ptr(),
        tables.data_ptr(),
        tables.stride(0),
        lens.data_ptr(),
        out.data_ptr(),
        batch,
        heads,
        kv_heads,
        head_dim,
        num_blocks,
        block_size,
        scale,
        torch.get_num_threads(),
    )
    if status == -1:  # the kernel checked its indices before reading anything
        raise KernelInputError(
            f"decode attention: context lengths {lens.tolist()} or block ids outside "
            f"{tables.shape[1]}-block tables over a {num_blocks}-block pool"
        )
    if status != 0:
        raise MemoryError("decode attention: no memory for a block's scores")
    return out


@cache
def _kernel() -> Callable[..., int] | None:
    library = cpu_native.load("cpu_decode_attention")
    if library is None:
        return None
    function = library.semgate_paged_decode_f32
    function.argtypes, function.restype = _ARGTYPES, ctypes.c_int
    return function
