"""Every Triton kernel against its torch reference, over the shapes and dtypes of one device.

On CUDA the shapes are the served model's (SmolLM2-135M: 9 query heads, 3 KV heads, head_dim 64,
16-token blocks) at batch 1 to 128 and contexts up to 2,048 tokens (512 with --quick); on a CPU,
under TRITON_INTERPRET=1, tiny ones (the interpreter runs each program in numpy). The reference
always computes in float32 from the same inputs, so an error is the kernel's own.
"""

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from gpu_backend import kernels
from gpu_backend.errors import KernelMismatch
from gpu_backend.kernels import reference_attention as ref_attn
from gpu_backend.kernels import reference_norm_rope as ref_norm

# Largest allowed |ours - reference| relative to max(1, |reference|): what each dtype can represent.
TOLERANCE = {torch.float32: 2e-3, torch.float16: 5e-3, torch.bfloat16: 3e-2}


@dataclass(frozen=True)
class Shapes:
    q_heads: int
    kv_heads: int
    head_dim: int
    block: int
    hidden: int
    batches: tuple[int, ...]
    max_context: int
    prefill: tuple[tuple[int, int], ...]  # (cached tokens, new tokens) per sequence of one prefill


def shapes_for(device: str, quick: bool) -> Shapes:
    if device == "cpu":  # interpreted: every program runs in Python
        return Shapes(4, 2, 16, 4, 48, (2,), 40, ((0, 7), (9, 3), (25, 20)))
    return Shapes(
        9,
        3,
        64,
        16,
        576,
        (1, 32) if quick else (1, 8, 32, 128),
        512 if quick else 2048,
        ((0, 300), (128, 64), (1000, 200)) if not quick else ((0, 200), (128, 64)),
    )


def dtypes_for(device: str) -> tuple[torch.dtype, ...]:
    # The interpreter's tl.dot mishandles bfloat16 operands: on a CPU, float32 and float16 only.
    return (torch.float32, torch.float16) if device == "cpu" else (torch.float16, torch.bfloat16, torch.float32)


@dataclass(frozen=True)
class KernelResult:
    kernel: str
    dtype: str
    shape: str
    max_error: float
    tolerance: float
    error: str = ""  # the exception, when the kernel failed to run

    @property
    def passed(self) -> bool:
        return not self.error and self.max_error <= self.tolerance


def sweep(device: str, quick: bool, seed: int = 0) -> list[KernelResult]:
    shapes = shapes_for(device, quick)
    results = []
    for dtype in dtypes_for(device):
        for name, shape, run in _cases(shapes, dtype, device, torch.Generator(device="cpu").manual_seed(seed)):
            try:
                ours, expected = run()
                error = max(_relative_error(o, e) for o, e in zip(ours, expected, strict=True))
                results.append(KernelResult(name, _name(dtype), shape, error, TOLERANCE[dtype]))
            except Exception as exc:  # noqa: BLE001 - a kernel that fails to compile or run is a finding
                results.append(
                    KernelResult(
                        name, _name(dtype), shape, float("inf"), TOLERANCE[dtype], f"{type(exc).__name__}: {exc}"[:300]
                    )
                )
    return results


Outputs = tuple[list[torch.Tensor], list[torch.Tensor]]  # the kernels' outputs, the reference's
Case = tuple[str, str, Callable[[], Outputs]]


def _cases(s: Shapes, dtype: torch.dtype, device: str, gen: torch.Generator) -> Iterator[Case]:
    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen).to(device=device, dtype=dtype)

    for rows in (1, *s.batches):
        x, residual, weight = rand(rows, s.hidden), rand(rows, s.hidden), rand(s.hidden)
        yield "rms_norm", f"{rows}x{s.hidden}", functools.partial(_rms_norm, x, weight)
        yield "fused_add_rms_norm", f"{rows}x{s.hidden}", functools.partial(_fused_add_rms_norm, x, residual, weight)
    cos_sin = kernels.build_rope_cache(s.head_dim, s.max_context, 10000.0, device, torch.float32)
    for rows in s.batches:
        q, k = rand(rows, s.q_heads, s.head_dim), rand(rows, s.kv_heads, s.head_dim)
        positions = torch.randint(0, s.max_context, (rows,), generator=gen).to(device)
        yield "apply_rope", f"{rows} tokens", functools.partial(_apply_rope, q, k, positions, cos_sin)
    for rows in s.batches:
        yield "store_kv", f"{rows} tokens", functools.partial(_store_kv, s, rows, dtype, device, gen)
        lens = [int(n) for n in torch.randint(1, s.max_context + 1, (rows,), generator=gen)]
        yield (
            "paged_decode_attention",
            f"batch {rows}, contexts <= {max(lens)}",
            functools.partial(_decode, s, lens, dtype, device, gen),
        )
    yield (
        "paged_prefill_attention",
        "cached+new " + ", ".join(f"{c}+{n}" for c, n in s.prefill),
        functools.partial(_prefill, s, dtype, device, gen),
    )


def _rms_norm(x: torch.Tensor, weight: torch.Tensor) -> Outputs:
    return [kernels.rms_norm(x, weight, 1e-5)], [ref_norm.rms_norm(x.float(), weight.float(), 1e-5)]


def _fused_add_rms_norm(x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor) -> Outputs:
    return (
        list(kernels.fused_add_rms_norm(x, residual, weight, 1e-5)),
        list(ref_norm.fused_add_rms_norm(x.float(), residual.float(), weight.float(), 1e-5)),
    )


def _apply_rope(q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor, cos_sin: torch.Tensor) -> Outputs:
    return (
        list(kernels.apply_rope(q, k, positions, cos_sin)),
        list(ref_norm.apply_rope(q.float(), k.float(), positions, cos_sin)),
    )


def _pool(
    s: Shapes, lens: list[int], dtype: torch.dtype, device: str, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A KV pool of random values with shuffled block tables for sequences of `lens` tokens."""
    per_seq = [-(-n // s.block) for n in lens]
    blocks = sum(per_seq) + 2
    k = torch.randn(blocks, s.block, s.kv_heads, s.head_dim, generator=gen).to(device=device, dtype=dtype)
    v = torch.randn(blocks, s.block, s.kv_heads, s.head_dim, generator=gen).to(device=device, dtype=dtype)
    order = torch.randperm(blocks, generator=gen)
    tables = torch.zeros(len(lens), max(per_seq), dtype=torch.int32)
    used = 0
    for row, count in enumerate(per_seq):
        tables[row, :count] = order[used : used + count].int()
        used += count
    return k, v, tables.to(device), torch.tensor(lens, dtype=torch.int32, device=device)


def _store_kv(s: Shapes, rows: int, dtype: torch.dtype, device: str, gen: torch.Generator) -> Outputs:
    k = torch.randn(rows, s.kv_heads, s.head_dim, generator=gen).to(device=device, dtype=dtype)
    v = torch.randn(rows, s.kv_heads, s.head_dim, generator=gen).to(device=device, dtype=dtype)
    blocks = -(-rows // s.block) + 2
    slots = torch.randperm(blocks * s.block, generator=gen)[:rows]
    slots[0] = -1  # a padding row: must be skipped
    slots = slots.to(device)
    ours_k = torch.zeros(blocks, s.block, s.kv_heads, s.head_dim, device=device, dtype=dtype)
    ours_v, ref_k, ref_v = torch.zeros_like(ours_k), torch.zeros_like(ours_k), torch.zeros_like(ours_k)
    kernels.store_kv(k, v, ours_k, ours_v, slots)
    ref_attn.store_kv(k, v, ref_k, ref_v, slots)
    return [ours_k, ours_v], [ref_k.float(), ref_v.float()]


def _decode(s: Shapes, lens: list[int], dtype: torch.dtype, device: str, gen: torch.Generator) -> Outputs:
    k, v, tables, context = _pool(s, lens, dtype, device, gen)
    q = torch.randn(len(lens), s.q_heads, s.head_dim, generator=gen).to(device=device, dtype=dtype)
    scale = s.head_dim**-0.5
    ours = kernels.paged_decode_attention(q, k, v, tables, context, scale)
    return [ours], [ref_attn.paged_decode_attention(q.float(), k.float(), v.float(), tables, context, scale)]


def _prefill(s: Shapes, dtype: torch.dtype, device: str, gen: torch.Generator) -> Outputs:
    lens = [cached + new for cached, new in s.prefill]
    k, v, tables, context = _pool(s, lens, dtype, device, gen)
    new = [n for _, n in s.prefill]
    cu = torch.tensor([0, *torch.tensor(new).cumsum(0).tolist()], dtype=torch.int32, device=device)
    q = torch.randn(sum(new), s.q_heads, s.head_dim, generator=gen).to(device=device, dtype=dtype)
    scale = s.head_dim**-0.5
    ours = kernels.paged_prefill_attention(q, k, v, tables, cu, context, scale, max(new))
    expected = ref_attn.paged_prefill_attention(q.float(), k.float(), v.float(), tables, cu, context, scale, max(new))
    return [ours], [expected]


def _relative_error(ours: torch.Tensor, expected: torch.Tensor) -> float:
    ours, expected = ours.float().cpu(), expected.float().cpu()
    if ours.shape != expected.shape:
        raise KernelMismatch(f"shape {tuple(ours.shape)}, reference {tuple(expected.shape)}")
    return float(((ours - expected).abs() / expected.abs().clamp(min=1.0)).max()) if ours.numel() else 0.0


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
