"""Where a decode step's time goes in the engine, by concurrency: each projection's matmul, the
head, attention, the other model ops, sampling, and the engine's Python around them.

C sequences (ShareGPT chat prompts) are prefilled, then --steps decode steps of all C are timed.
Timing is by wrapping the functions a step calls (wall clock, perf_counter; CPU ops are
synchronous, and a wrapper costs about a microsecond against the 10-100 microseconds of the
smallest op), not by torch.profiler, whose per-op records would inflate the many small ops.
--weights fp32,bf16 profiles each format, alternating per concurrency, in the same run.
"""

import argparse
import json
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import EngineConfig, SamplingParams
from gpu_backend.model import llama, load_model
from loadtest.benches.backend import chat_prompt, sharegpt_questions, weight_formats

DESCRIPTION = "engine decode step profile: matmuls per projection, attention, sampling, Python per step"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"concurrency": 2, "steps": 2}
PROJECTIONS = ("qkv_proj", "o_proj", "gate_up_proj", "down_proj")
ATTENTION = ("paged_decode_attention", "paged_prefill_attention", "store_kv")
ROWS = [*(f"matmul {p}" for p in PROJECTIONS), "matmul lm_head", "attention (incl. KV write)",
        "other model ops (norms, RoPE, SiLU, embedding)", "sampling", "engine Python (scheduler, outputs)"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated sequence counts")
    parser.add_argument("--steps", type=int, default=24, help="decode steps timed per concurrency")
    parser.add_argument("--weights", default="fp32", help="comma-separated weight formats (fp32, bf16)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--json", action="store_true")


class StepClock:
    """Seconds spent in each wrapped function, summed since the last reset."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, name: str | Callable[..., str], function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[name if isinstance(name, str) else name(*args)] += time.perf_counter() - started
        return timed


@contextmanager
def instrumented(engine: Any, clock: StepClock) -> Iterator[None]:
    """Wrap the decoder's matmuls (named by their weight), attention kernels, head, forward and
    the engine's sampler and step; restore them on exit."""
    model = engine.model
    names = {id(getattr(layer, p)): p for layer in model.layers for p in PROJECTIONS}
    patches: list[tuple[Any, str, Any]] = [(llama, "linear", clock.wrap(
        lambda x, weight: f"matmul {names.get(id(weight), 'lm_head')}", llama.linear))]
    patches += [(llama, kernel, clock.wrap("attention", getattr(llama, kernel))) for kernel in ATTENTION]
    patches += [(model, "head", clock.wrap("head", model.head)),
                (model, "forward", clock.wrap("forward", model.forward)),
                (engine, "sampler", clock.wrap("sampling", engine.sampler)),
                (engine, "step", clock.wrap("step", engine.step))]
    saved = [(owner, attr, owner.__dict__.get(attr)) for owner, attr, _ in patches]
    for owner, attr, replacement in patches:
        setattr(owner, attr, replacement)
    try:
        yield
    finally:
        for owner, attr, original in saved:
            if original is None:
                delattr(owner, attr)  # an instance attribute shadowing the class's method
            else:
                setattr(owner, attr, original)


def profile(loaded: Any, prompts: list[list[int]], concurrency: int, steps: int, threads: int) -> dict:
    engine = build_from_loaded(loaded, EngineConfig(num_threads=threads, max_running=max(64, concurrency)))
    params = SamplingParams(max_tokens=steps + 8, temperature=0, ignore_eos=True)
    seqs = [engine.add_request(prompts[i % len(prompts)], params) for i in range(concurrency)]
    while any(seq.num_output_tokens == 0 for seq in seqs):  # prefill all, then time decode steps only
        engine.step()
    clock = StepClock()
    with instrumented(engine, clock):
        for _ in range(steps):
            engine.step()
    engine.close()
    ms = {name: 1000 * seconds / steps for name, seconds in clock.seconds.items()}
    matmuls = {f"matmul {p}": ms.get(f"matmul {p}", 0.0) for p in PROJECTIONS}
    # The head's own matmul (one row: torch.mm on its column copy; else linear, counted as lm_head).
    head = ms.get("head", 0.0)
    rows = matmuls | {
        "matmul lm_head": head,
        "attention (incl. KV write)": ms.get("attention", 0.0),
        "other model ops (norms, RoPE, SiLU, embedding)": ms["forward"] - sum(matmuls.values()) - head
        - ms.get("attention", 0.0),
        "sampling": ms.get("sampling", 0.0),
        "engine Python (scheduler, outputs)": ms["step"] - ms["forward"] - ms.get("sampling", 0.0),
    }
    return {"concurrency": concurrency, "step_ms": ms["step"], "tokens_per_s": concurrency * 1000 / ms["step"],
            "rows_ms": rows}


def print_table(results: dict) -> None:
    print(f"decode step profile: {results['model']}, {results['threads']} threads, {results['steps']} steps, "
          f"contexts = ShareGPT chat prompts (mean {results['prompt_tokens_mean']:.0f} tokens)")
    columns = [(w, r) for r in results["levels"] for w in results["weights"]]
    print(f"{'ms per step':<48}" + "".join(f"{f'{w} x{r}':>16}" for w, r in columns))
    by_key = {(p["weights"], p["concurrency"]): p for p in results["profiles"]}
    for row in ROWS:
        cells = [by_key[key]["rows_ms"][row] / by_key[key]["step_ms"] for key in columns]
        print(f"{row:<48}" + "".join(f"{by_key[k]['rows_ms'][row]:8.2f} ({c:4.0%})" for k, c in zip(columns, cells)))
    print(f"{'step total':<48}" + "".join(f"{by_key[k]['step_ms']:15.2f} " for k in columns))
    print(f"{'tokens/s (decode)':<48}" + "".join(f"{by_key[k]['tokens_per_s']:15.1f} " for k in columns))


def run(args: argparse.Namespace) -> int:
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    levels = [int(c) for c in args.concurrency.split(",")]
    formats = weight_formats(args.weights)
    models = {w: load_model(args.model, progress=False, weight_format=w) for w in formats}
    first = models[formats[0]]
    questions, _ = sharegpt_questions(max(levels))
    prompts = [chat_prompt(first, q) for q in questions]
    results: dict = {"model": args.model, "threads": threads, "steps": args.steps, "levels": levels,
                     "weights": formats, "prompt_tokens_mean": sum(map(len, prompts)) / len(prompts), "profiles": []}
    for c in levels:
        for w in formats:
            results["profiles"].append(profile(models[w], prompts, c, args.steps, threads) | {"weights": w})
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    return 0
