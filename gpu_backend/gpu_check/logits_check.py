"""The model's logits on the Triton path against the torch path, and against HF transformers.

One prefill step over several prompts and one decode step after it, on a fresh KV pool: both
attention paths and the KV writes are exercised. On CUDA the served model is checked; on a CPU the
Triton path runs under the interpreter on a tiny random Llama (the real one would take an hour
there), and the torch path against HF on the real model in float32.
"""

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch

from gpu_backend.batch import StepBatch
from gpu_backend.kv import KVPool
from gpu_backend.model import LlamaConfig, LlamaModel, load_model, resolve_model_path

BLOCK = 16
PROMPTS = [
    "What is the capital of France?",
    "The history of the Roman Empire begins",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
]
# |ours - reference| allowed on the logits, by the dtype both sides compute in.
TOLERANCE = {"float32": 1e-3, "float16": 0.15, "bfloat16": 0.5}
TINY = LlamaConfig(
    num_layers=2,
    hidden_size=64,
    num_heads=4,
    num_kv_heads=2,
    head_dim=16,
    intermediate_size=96,
    rms_norm_eps=1e-5,
    rope_theta=10000.0,
    vocab_size=300,
    max_position=128,
    tie_word_embeddings=False,
)


@dataclass(frozen=True)
class LogitsResult:
    check: str
    model: str
    dtype: str
    max_abs_diff: float
    top1_agreement: float
    tolerance: float
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.error and self.max_abs_diff <= self.tolerance and self.top1_agreement == 1.0


def check_all(device: str, quick: bool) -> list[LogitsResult]:
    results = []
    if device == "cpu":
        results.append(
            _guarded(
                "triton vs torch",
                "tiny random Llama",
                "float32",
                device,
                lambda: _triton_vs_torch(tiny_model(), tiny_prompts()),
            )
        )
    else:
        for dtype in ("bfloat16",) if quick else ("bfloat16", "float16", "float32"):
            results.append(
                _guarded(
                    "triton vs torch",
                    "smollm2-135m",
                    dtype,
                    device,
                    functools.partial(_triton_vs_served, device, dtype),
                )
            )
    results.append(_guarded("torch path vs HF transformers", "smollm2-135m", "float32", device, lambda: _vs_hf(device)))
    return results


def _guarded(check: str, model: str, dtype: str, device: str, run: Callable[[], tuple[float, float]]) -> LogitsResult:
    # float32 on a GPU: other reduction orders than the CPU's, so ten times the CPU's bound.
    tolerance = TOLERANCE[dtype] * (10 if dtype == "float32" and device != "cpu" else 1)
    try:
        diff, agreement = run()
        return LogitsResult(check, model, dtype, diff, agreement, tolerance)
    except Exception as exc:  # noqa: BLE001 - reported, not raised: the other checks still run
        return LogitsResult(check, model, dtype, float("inf"), 0.0, tolerance, f"{type(exc).__name__}: {exc}"[:300])


def _triton_vs_torch(model: LlamaModel, prompts: list[list[int]]) -> tuple[float, float]:
    ours = _with_kernels("triton", lambda: _two_steps(model, prompts))
    reference = _with_kernels("torch", lambda: _two_steps(model, prompts))
    return _compare(ours, reference)


def _triton_vs_served(device: str, dtype: str) -> tuple[float, float]:
    return _triton_vs_torch(*_served(device, dtype))


def _vs_hf(device: str) -> tuple[float, float]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM

    path = resolve_model_path("smollm2-135m")
    loaded = load_model("smollm2-135m", device=device, dtype=torch.float32, progress=False)
    prompts = [loaded.tokenizer.encode(p) for p in PROMPTS]
    # transformers' decorator on from_pretrained hides its signature from mypy
    hf = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32).to(device).eval()  # type: ignore[arg-type]
    with torch.inference_mode():
        reference = torch.stack([hf(torch.tensor([ids], device=device)).logits[0, -1].float() for ids in prompts])
    ours = _with_kernels("torch", lambda: _two_steps(loaded.model, prompts)[: len(prompts)])  # the prefill rows
    return _compare(ours, reference)


def _served(device: str, dtype: str) -> tuple[LlamaModel, list[list[int]]]:
    loaded = load_model("smollm2-135m", device=device, dtype=getattr(torch, dtype), progress=False)
    return loaded.model, [loaded.tokenizer.encode(p) for p in PROMPTS]


_Result = TypeVar("_Result")


def _with_kernels(choice: str, run: Callable[[], _Result]) -> _Result:
    previous = os.environ.get("SEMGATE_KERNELS")
    os.environ["SEMGATE_KERNELS"] = choice
    try:
        return run()
    finally:
        if previous is None:
            os.environ.pop("SEMGATE_KERNELS", None)
        else:
            os.environ["SEMGATE_KERNELS"] = previous


def _two_steps(model: LlamaModel, prompts: list[list[int]]) -> torch.Tensor:
    """Logits of each prompt's last token (one prefill), then of one greedy token more (one decode)."""
    cfg, device = model.config, model.embed_tokens.device
    per_seq = [-(-(len(ids) + 1) // BLOCK) for ids in prompts]
    pool = KVPool.create(
        sum(per_seq),
        cfg.num_layers,
        cfg.num_kv_heads,
        cfg.head_dim,
        BLOCK,
        dtype=model.embed_tokens.dtype,
        device=device,
    )
    starts = [sum(per_seq[:i]) for i in range(len(prompts))]
    tables = torch.zeros(len(prompts), max(per_seq), dtype=torch.int32)
    for row, (start, count) in enumerate(zip(starts, per_seq, strict=True)):
        tables[row, :count] = torch.arange(start, start + count)
    ids = [t for p in prompts for t in p]
    positions = [i for p in prompts for i in range(len(p))]
    slots = [start * BLOCK + i for start, p in zip(starts, prompts, strict=True) for i in range(len(p))]
    cu = [0, *torch.tensor([len(p) for p in prompts]).cumsum(0).tolist()]
    prefill = StepBatch(
        is_prefill=True,
        slot_mapping=_on(slots, device),
        block_tables=tables.to(device),
        context_lens=_on([len(p) for p in prompts], device, torch.int32),
        cu_seqlens_q=_on(cu, device, torch.int32),
        logits_indices=_on([c - 1 for c in cu[1:]], device),
        max_seqlen_q=max(len(p) for p in prompts),
        max_context_len=max(len(p) for p in prompts),
    )
    first = model(_on(ids, device), _on(positions, device), prefill, pool.k_cache, pool.v_cache)
    next_slots = [s * BLOCK + len(p) for s, p in zip(starts, prompts, strict=True)]
    decode = StepBatch(
        is_prefill=False,
        slot_mapping=_on(next_slots, device),
        block_tables=tables.to(device),
        context_lens=_on([len(p) + 1 for p in prompts], device, torch.int32),
        cu_seqlens_q=_on(list(range(len(prompts) + 1)), device, torch.int32),
        logits_indices=_on(list(range(len(prompts))), device),
        max_seqlen_q=1,
        max_context_len=max(len(p) for p in prompts) + 1,
    )
    second = model(first.argmax(-1), _on([len(p) for p in prompts], device), decode, pool.k_cache, pool.v_cache)
    return torch.cat([first, second]).float().cpu()


def _compare(ours: torch.Tensor, reference: torch.Tensor) -> tuple[float, float]:
    ours, reference = ours.float().cpu(), reference.float().cpu()
    agreement = float((ours.argmax(-1) == reference.argmax(-1)).float().mean())
    return float((ours - reference).abs().max()), agreement


def _on(values: list[int], device: str | torch.device, dtype: torch.dtype = torch.int64) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype, device=device)


def tiny_model() -> LlamaModel:
    gen = torch.Generator().manual_seed(0)
    cfg = TINY

    def rand(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen) * 0.3

    weights = {
        "model.embed_tokens.weight": rand(cfg.vocab_size, cfg.hidden_size),
        "lm_head.weight": rand(cfg.vocab_size, cfg.hidden_size),
        "model.norm.weight": 1 + rand(cfg.hidden_size),
    }
    for i in range(cfg.num_layers):
        p = f"model.layers.{i}"
        weights |= {
            f"{p}.input_layernorm.weight": 1 + rand(cfg.hidden_size),
            f"{p}.post_attention_layernorm.weight": 1 + rand(cfg.hidden_size),
            f"{p}.self_attn.q_proj.weight": rand(cfg.q_size, cfg.hidden_size),
            f"{p}.self_attn.k_proj.weight": rand(cfg.kv_size, cfg.hidden_size),
            f"{p}.self_attn.v_proj.weight": rand(cfg.kv_size, cfg.hidden_size),
            f"{p}.self_attn.o_proj.weight": rand(cfg.hidden_size, cfg.q_size),
            f"{p}.mlp.gate_proj.weight": rand(cfg.intermediate_size, cfg.hidden_size),
            f"{p}.mlp.up_proj.weight": rand(cfg.intermediate_size, cfg.hidden_size),
            f"{p}.mlp.down_proj.weight": rand(cfg.hidden_size, cfg.intermediate_size),
        }
    return LlamaModel(cfg, weights).eval()


def tiny_prompts() -> list[list[int]]:
    gen = torch.Generator().manual_seed(1)
    return [torch.randint(0, TINY.vocab_size, (n,), generator=gen).tolist() for n in (11, 6, 20)]
