"""KVShare: in-context examples in varying order, with no reuse / exact-prefix reuse / chunk reuse.

Each request is [shared system prompt] [k examples drawn from a pool, in a random order]
[question], built from the in-context task (_incontext_task.py: made-up house formats with
exact answers; two examples of the question's own family are always among the k). Every
request is served three times in the same process, interleaved, by three engines made by the
backend's builder (gpu_backend/build.py), i.e. the engine's own step path with its chunked
prefill, scheduler and sampler:

  none    no reuse: the prefix cache off, every prompt token computed
  prefix  exact-prefix reuse: the radix cache (only the system prompt repeats as a prefix)
  chunks  the radix cache plus the chunk store: examples seen before are reused at their new
          positions and blended, recomputing the `--ratio` fraction of most deviating tokens
          (a comma-separated list runs one chunk cache per ratio, `chunks@R`, side by side)

TTFT here is from add_request to the step that samples the first token (single request, in
process, no HTTP); tokens computed is the engine's prefill tokens, a blended prompt counted by
its token x layer passes / layers. Accuracy: each mode
continues greedily; `chunks` is compared with `none` (the full recompute) token by token,
and both are scored with the task's exact-answer check. The first --warmup requests fill the
caches and are not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path

from tqdm import tqdm

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import EngineConfig, SamplingParams
from gpu_backend.engine.async_engine import Engine
from gpu_backend.kv import bytes_per_block
from gpu_backend.kvshare.chunk_spans import chat_chunk_spans
from gpu_backend.model import load_model
from loadtest import smoke
from loadtest.benches._incontext_task import build, correct
from loadtest.machine import describe_machine

DESCRIPTION = "KVShare: TTFT and tokens computed with no reuse / exact-prefix / chunk reuse + selective recompute; accuracy vs full recompute"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"requests": 1, "warmup": 1, "k": 3, "ratio": smoke.FIRST, "max_tokens": 4}
BASE_MODES = ("none", "prefix")
SYSTEM = ("You are the assistant of a company with its own house formats for codes, dates and numbers. "
          "Answer with the code only, exactly in the house format shown in the earlier answers.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--requests", type=int, default=12, help="measured requests")
    parser.add_argument("--warmup", type=int, default=4, help="unmeasured requests that fill the caches first")
    parser.add_argument("--k", type=int, default=8, help="in-context examples per request")
    parser.add_argument("--pool-per-family", type=int, default=4, help="examples in the pool per task family (5)")
    parser.add_argument("--ratio", default="0.15",
                        help="recompute ratio of the chunk mode; a comma-separated list compares several")
    parser.add_argument("--check-layer", type=int, default=1,
                        help="layer at which reused tokens' KV deviation picks those recomputed")
    parser.add_argument("--max-tokens", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("artifacts/kvshare"))
    parser.add_argument("--json", action="store_true")


def chunk_mode(ratio: float) -> str:
    return f"chunks@{ratio:g}"


def _engines(loaded, ratios: list[float], check_layer: int) -> dict[str, Engine]:
    """One engine per mode, each with a pool of 1024 blocks of 16 tokens."""
    cfg = loaded.config
    budget = 1024 * bytes_per_block(cfg.num_layers, cfg.num_kv_heads, cfg.head_dim, 16, loaded.model.embed_tokens.dtype)
    configs = {"none": EngineConfig(kv_budget_bytes=budget, enable_prefix_cache=False),
               "prefix": EngineConfig(kv_budget_bytes=budget),
               **{chunk_mode(r): EngineConfig(kv_budget_bytes=budget, kvshare_recompute_ratio=r,
                                              kvshare_check_layer=check_layer) for r in ratios}}
    return {mode: build_from_loaded(loaded, config) for mode, config in configs.items()}


def _requests(args: argparse.Namespace):
    pool, _, tests = build(args.pool_per_family, 0, (args.requests + args.warmup + 4) // 5 + 1, args.seed)
    rng = random.Random(args.seed)
    for item in tests[: args.warmup + args.requests]:
        own = [p for p in pool if p.family == item.family]
        others = [p for p in pool if p.family != item.family]
        chosen = [*rng.sample(own, 2), *rng.sample(others, args.k - 2)]
        rng.shuffle(chosen)
        turns = [t for p in chosen for t in ({"role": "user", "content": p.question},
                                             {"role": "assistant", "content": p.reference})]
        messages = [{"role": "system", "content": SYSTEM}, *turns, {"role": "user", "content": item.question}]
        chunks = [(1 + 2 * i, 3 + 2 * i) for i in range(len(chosen))]
        yield item, messages, chunks


def _run_one(engine: Engine, ids: list[int], spans, max_tokens: int, stop: set[int]) -> dict:
    """One request alone through the engine: its TTFT, prefill compute and greedy tokens."""
    prefilled, before = engine.stats.prefill_tokens, engine.runner.stats()
    started, cpu_started = time.perf_counter(), time.process_time()
    seq = engine.add_request(ids, SamplingParams(max_tokens=max_tokens, temperature=0), chunk_spans=spans)
    while seq.num_output_tokens == 0:
        engine.step()
    ttft, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    while engine.has_unfinished():
        engine.step()
    after = engine.runner.stats()

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    computed = engine.stats.prefill_tokens - prefilled - grew("kvshare_prefill_tokens_saved")
    return {"ttft_s": ttft, "ttft_cpu_s": cpu, "tokens_computed": computed, "reused": grew("kvshare_tokens_reused"),
            "cached": seq.num_cached_tokens, "tokens": [t for t in seq.output_token_ids if t not in stop]}


def run(args: argparse.Namespace) -> int:
    loaded = load_model(args.model, progress=not args.json)
    tok = loaded.tokenizer
    stop = set(tok.stop_ids) | ({tok.eos_id} if tok.eos_id is not None else set())
    ratios = [float(r) for r in str(args.ratio).split(",")]
    engines = _engines(loaded, ratios, args.check_layer)
    rows = []
    requests = list(_requests(args))
    for index, (item, messages, chunks) in enumerate(tqdm(requests, desc="kvshare requests (3 modes each)")):
        ids, spans = chat_chunk_spans(loaded.chat_template, tok, messages, chunks)
        row = {"prompt_tokens": len(ids), "reference": item.reference, "measured": index >= args.warmup}
        for mode, engine in engines.items():
            row[mode] = _run_one(engine, ids, spans, args.max_tokens, stop)
            row[mode]["correct"] = correct(tok.decode(row[mode]["tokens"]), item.reference)
        rows.append(row)
    for engine in engines.values():
        engine.close()
    result = _summary(args, ratios, rows)
    result["machine"] = describe_machine()
    result["load_average"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kvshare.json").write_text(json.dumps({**result, "rows": rows}, indent=2))
    result["plot"] = str(_plot(result, args.out / "kvshare.png"))
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


def _agreement(a: list[int], b: list[int]) -> float:
    """Fraction of the reference's positions (a) where b has the same token."""
    if not a:
        return float(not b)
    return sum(x == y for x, y in zip(a, b)) / max(len(a), len(b))


def _summary(args: argparse.Namespace, ratios: list[float], rows: list[dict]) -> dict:
    """Per mode; the headline keys compare the first ratio's chunk mode (`chunks`); `by_ratio` has every ratio."""
    measured = [r for r in rows if r["measured"]]
    out: dict = {"requests": len(measured), "k": args.k, "ratio": ratios[0], "check_layer": args.check_layer,
                 "mean_prompt_tokens": statistics.mean(r["prompt_tokens"] for r in measured)}
    for mode in [*BASE_MODES, *map(chunk_mode, ratios)]:
        ttfts = [r[mode]["ttft_s"] for r in measured]
        out[mode] = {
            "ttft_mean_ms": 1000 * statistics.mean(ttfts),
            "ttft_p50_ms": 1000 * statistics.median(ttfts),
            # CPU seconds of the process during the prefill: steadier than wall time on a shared machine.
            "ttft_cpu_mean_ms": 1000 * statistics.mean(r[mode]["ttft_cpu_s"] for r in measured),
            "tokens_computed_mean": statistics.mean(r[mode]["tokens_computed"] for r in measured),
            "reused_tokens_mean": statistics.mean(r[mode]["reused"] + r[mode]["cached"] for r in measured),
            "task_accuracy": statistics.mean(r[mode]["correct"] for r in measured),
        }
    out["by_ratio"] = {f"{r:g}": _against_baselines(out, measured, chunk_mode(r)) for r in ratios}
    out["chunks"] = out[chunk_mode(ratios[0])]
    out.update(out["by_ratio"][f"{ratios[0]:g}"])
    return out


def _against_baselines(out: dict, measured: list[dict], mode: str) -> dict:
    chunks = out[mode]
    return {
        "ttft_ratio_prefix_over_chunks": out["prefix"]["ttft_mean_ms"] / chunks["ttft_mean_ms"],
        "ttft_p50_ratio_prefix_over_chunks": out["prefix"]["ttft_p50_ms"] / chunks["ttft_p50_ms"],
        "ttft_cpu_ratio_prefix_over_chunks": out["prefix"]["ttft_cpu_mean_ms"] / chunks["ttft_cpu_mean_ms"],
        "ttft_ratio_none_over_chunks": out["none"]["ttft_mean_ms"] / chunks["ttft_mean_ms"],
        "tokens_ratio_prefix_over_chunks": out["prefix"]["tokens_computed_mean"] / chunks["tokens_computed_mean"],
        "greedy_identical_chunks_vs_full": statistics.mean(r[mode]["tokens"] == r["none"]["tokens"] for r in measured),
        "token_agreement_chunks_vs_full": statistics.mean(_agreement(r["none"]["tokens"], r[mode]["tokens"])
                                                          for r in measured),
        "accuracy_delta_points": 100 * (chunks["task_accuracy"] - out["none"]["task_accuracy"]),
    }


def _modes(result: dict) -> list[str]:
    return [*BASE_MODES, *(chunk_mode(float(r)) for r in result["by_ratio"])]


def _table(result: dict) -> str:
    lines = [f"{result['requests']} requests, k={result['k']}, ~{result['mean_prompt_tokens']:.0f} prompt tokens",
             f"{'mode':12} {'TTFT mean ms':>13} {'p50 ms':>8} {'CPU ms':>8} {'computed':>9} {'reused':>7} {'accuracy':>9}"]
    for mode in _modes(result):
        m = result[mode]
        lines.append(f"{mode:12} {m['ttft_mean_ms']:13.1f} {m['ttft_p50_ms']:8.1f} {m['ttft_cpu_mean_ms']:8.1f} "
                     f"{m['tokens_computed_mean']:9.1f} {m['reused_tokens_mean']:7.1f} {m['task_accuracy']:9.2%}")
    for ratio, r in result["by_ratio"].items():
        lines.append(f"ratio {ratio}: TTFT prefix/chunks {r['ttft_ratio_prefix_over_chunks']:.2f}x mean, "
                     f"{r['ttft_p50_ratio_prefix_over_chunks']:.2f}x p50 (CPU time {r['ttft_cpu_ratio_prefix_over_chunks']:.2f}x), "
                     f"none/chunks {r['ttft_ratio_none_over_chunks']:.2f}x; tokens computed prefix/chunks "
                     f"{r['tokens_ratio_prefix_over_chunks']:.2f}x; greedy identical to full recompute "
                     f"{r['greedy_identical_chunks_vs_full']:.0%}, token agreement {r['token_agreement_chunks_vs_full']:.1%}, "
                     f"accuracy delta {r['accuracy_delta_points']:+.1f} points")
    lines.append(f"load average {result['load_average'][0]:.2f}; {result['machine']}")
    return "\n".join(lines)


def _plot(result: dict, path: Path) -> Path:
    from loadtest.plots import _save, plt

    modes = _modes(result)
    colors = ["grey", "tab:blue", *["tab:green"] * (len(modes) - 2)]
    fig, (ttft_ax, acc_ax) = plt.subplots(1, 2, figsize=(4 + 2 * len(modes), 4))
    ttft_ax.bar(modes, [result[m]["ttft_mean_ms"] for m in modes], color=colors)
    ttft_ax.set_ylabel("mean TTFT (ms)")
    ttft_ax.set_title(f"prefill, k={result['k']} examples in varying order")
    acc_ax.bar(modes, [100 * result[m]["task_accuracy"] for m in modes], color=colors)
    acc_ax.set_ylabel("task accuracy (%)")
    acc_ax.set_title(f"{result['requests']} requests; chunks@R: recompute ratio R")
    return _save(fig, path)
