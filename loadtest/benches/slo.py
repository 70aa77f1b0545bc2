"""SLO attainment and goodput of the bundled engine's schedulers under open-loop load.

Requests arrive by a Poisson process at each rate, in two SLO classes: interactive chat
(TTFT and TPOT objectives, short answers) and deadline jobs (the whole answer within a
deadline, longer answers). The same arrivals (same seed) are served by each mode:

- fcfs:     unified engine, first come first served (the baseline);
- goodput:  unified engine with the SLO-aware goodput scheduler (engine/goodput_scheduler.py);
- phase_split: semi-PD prefill and decode workers over one shared KV pool, the compute split
  between them (CPU threads; on a GPU SM partitions: green contexts, else MPS) moved by the
  SLO-aware controller (engine/phase_split/); dropped, with the reason, on a GPU with neither.

All modes get the same cores (--threads): the unified engine that many torch threads, the
phase split that many in all between its two workers (the controller may oversubscribe by
one thread: a time-share).

A fairness run follows: tenant "flood" sends at a high rate, tenant "steady" at a low one
with a TTFT objective; FCFS against fair share with swap preemption, reporting the
steady tenant's TTFT p99 and the swap path's bytes and time per switch.

The engine is driven in-process (one thread steps it, arrivals are injected between
steps at their scheduled instants), so the figures are the engine's, not HTTP's.
"""

import argparse
import json
import random
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from gpu_backend.build import build_engine, build_from_loaded
from gpu_backend.engine import EngineConfig, SamplingParams
from gpu_backend.engine.async_engine import Engine
from gpu_backend.engine.phase_split.cuda_device import CudaCapability
from gpu_backend.engine.phase_split.partition import choose_partition
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.errors import PartitionUnavailable
from gpu_backend.model import load_model
from loadtest import smoke
from loadtest.benches.backend import chat_prompt, percentile, sharegpt_questions

DESCRIPTION = "engine schedulers under open-loop load with mixed SLOs: attainment, goodput, fairness"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"rates": smoke.FIRST, "requests": 2, "chat_tokens": 4, "job_tokens": 4}
MODES = ("fcfs", "goodput", "phase_split")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="where the engine runs (default: %(default)s); the phase split runs on a CPU only")
    # The headline regime (docs/benchmarks.md, slo): from the rate FCFS still holds to four times it, each rate
    # sustained for 6-24 s, so that the schedulers differ; below ~8 req/s every mode meets every SLO.
    parser.add_argument("--rates", default="8,16,32", help="arrival rates, requests/s (comma-separated)")
    parser.add_argument("--requests", type=int, default=192, help="requests per rate")
    parser.add_argument("--chat-fraction", type=float, default=0.7, help="share of interactive chat requests")
    parser.add_argument("--chat-tokens", type=int, default=24)
    parser.add_argument("--job-tokens", type=int, default=64)
    parser.add_argument("--ttft-s", type=float, default=3.0, help="chat TTFT objective")
    parser.add_argument("--tpot-s", type=float, default=0.5, help="chat TPOT objective")
    parser.add_argument("--deadline-s", type=float, default=40.0, help="deadline jobs: whole answer within")
    parser.add_argument("--threads", type=int, default=2, help="cores per mode (phase split: both workers)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-fairness", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("artifacts/slo"))
    parser.add_argument("--json", action="store_true")


def make_workload(args: argparse.Namespace, prompts: list[list[int]], rate: float, seed: int) -> list[dict]:
    rng = random.Random(seed)
    at, items = 0.0, []
    for index in range(args.requests):
        at += rng.expovariate(rate)
        chat = rng.random() < args.chat_fraction
        slo = (RequestSLO(ttft_s=args.ttft_s, tpot_s=args.tpot_s, category="chat") if chat
               else RequestSLO(deadline_s=args.deadline_s, category="job"))
        items.append({"at": at, "prompt": prompts[index % len(prompts)], "slo": slo, "tenant": "",
                      "max_tokens": args.chat_tokens if chat else args.job_tokens})
    return items


def warm_up(engine: Engine, prompts: list[list[int]], requests: int = 4, tokens: int = 8) -> None:
    """A few untimed requests through a fresh engine, so that no mode is measured cold (the
    first engine of a process otherwise pays one-off kernel and allocator set-up inside its
    first arrivals: FCFS, run first, met 25-74 of 96 at 16 req/s across runs, and 70-74 when
    run after another mode). Every mode gets the same warm-up; it carries no SLO, so the
    output-length history of the chat and job classes starts empty as before."""
    params = SamplingParams(max_tokens=tokens, temperature=0, ignore_eos=True)
    for prompt in prompts[:requests]:
        engine.add_request(prompt, params)
    while engine.has_unfinished():
        engine.step()


def serve(engine: Engine, items: list[dict], desc: str) -> list[dict]:
    """Inject each request at its arrival instant, step until all are done; per-request records."""
    pending = sorted(items, key=lambda item: item["at"])
    seqs, started = [], time.monotonic()
    bar = tqdm(total=len(items), desc=desc, unit="req", file=sys.stderr)
    done = 0
    while pending or engine.has_unfinished():
        now = time.monotonic()
        while pending and started + pending[0]["at"] <= now:
            item = pending.pop(0)
            params = SamplingParams(max_tokens=item["max_tokens"], temperature=0, ignore_eos=True)
            seq = engine.add_request(item["prompt"], params, slo=item["slo"], tenant=item["tenant"])
            seq.arrival_time = started + item["at"]
            seqs.append((item, seq))
        if not engine.has_unfinished():
            time.sleep(min(0.05, max(0.0, started + pending[0]["at"] - now)))
            continue
        engine.step()
        finished = sum(seq.is_finished for _, seq in seqs)
        bar.update(finished - done)
        done = finished
    bar.close()
    records = []
    for item, seq in seqs:
        slo = item["slo"]
        records.append({
            "class": slo.category, "tenant": item["tenant"], "ttft_s": seq.ttft, "tpot_s": seq.tpot,
            "e2e_s": seq.finish_time - seq.arrival_time, "output_tokens": seq.num_output_tokens,
            "met": slo.met(seq.arrival_time, seq.first_token_time, seq.finish_time, seq.num_output_tokens)})
    return records


def summarize(records: list[dict], wall: float) -> dict:
    ttfts = [r["ttft_s"] for r in records]
    tpots = [r["tpot_s"] for r in records if r["tpot_s"] is not None]
    met = sum(r["met"] for r in records)
    by_class = {c: sum(r["met"] for r in records if r["class"] == c) / max(1, sum(r["class"] == c for r in records))
                for c in sorted({r["class"] for r in records})}
    return {"requests": len(records), "within_slo": met, "attainment": met / len(records),
            "goodput_rps": met / wall, "wall_s": wall, "ttft_p50_s": percentile(ttfts, 50),
            "ttft_p99_s": percentile(ttfts, 99), "tpot_p99_s": percentile(tpots, 99) if tpots else None,
            "attainment_by_class": by_class}


def run_rates(args, loaded, prompts, rates) -> list[dict]:
    rows = []
    for rate in rates:
        items = make_workload(args, prompts, rate, args.seed)
        row: dict = {"rate_rps": rate}
        for mode in args.modes.split(","):
            split = mode == "phase_split"
            config = EngineConfig(num_threads=args.threads, scheduler="fcfs" if split else mode, phase_split=split)
            engine = build_engine(loaded.model, loaded.tokenizer, config)
            warm_up(engine, prompts, min(4, args.requests), min(8, args.chat_tokens))  # no longer than the run
            started = time.monotonic()
            records = serve(engine, items, f"{mode} @ {rate:g} req/s")
            row[mode] = summarize(records, time.monotonic() - started)
            if split:
                row[mode]["split"] = engine.phase_split_stats()
                row[mode]["memory_mb"] = engine.memory_report()
            engine.close()
        for mode in row.keys() - {"rate_rps", "fcfs"}:
            # None when FCFS met none (no finite ratio; compare the counts)
            fcfs_met = row["fcfs"]["within_slo"]
            row[f"within_slo_ratio_{mode}"] = row[mode]["within_slo"] / fcfs_met if fcfs_met else None
        rows.append(row)
    return rows


def run_fairness(args, loaded, prompts) -> dict:
    rng = random.Random(args.seed + 1)
    items, at = [], 0.0
    for index in range(args.requests):  # the flood: everything at once, long answers
        items.append({"at": 0.0, "prompt": prompts[index % len(prompts)], "slo": RequestSLO(category="flood"),
                      "tenant": "flood", "max_tokens": args.job_tokens})
    for index in range(max(smoke.size(4, 1), args.requests // 4)):  # steady: a short chat request every few seconds
        at += rng.expovariate(0.5)
        items.append({"at": at, "prompt": prompts[-1 - index % len(prompts)],
                      "slo": RequestSLO(ttft_s=args.ttft_s, category="steady"), "tenant": "steady",
                      "max_tokens": args.chat_tokens})
    result = {}
    for name, extra in (("fcfs", {}), ("fair_share_swap", {"fair_share": True, "preemption": "swap"})):
        config = EngineConfig(num_threads=args.threads, max_running=8, **extra)
        engine = build_from_loaded(loaded, config)
        warm_up(engine, prompts, min(4, args.requests), min(8, args.chat_tokens))
        records = serve(engine, items, f"fairness: {name}")
        steady = [r for r in records if r["tenant"] == "steady"]
        result[name] = {
            "steady_ttft_p99_s": percentile([r["ttft_s"] for r in steady], 99),
            "steady_within_slo": sum(r["met"] for r in steady) / len(steady),
            "flood_e2e_p50_s": percentile([r["e2e_s"] for r in records if r["tenant"] == "flood"], 50),
            "fairness_preemptions": engine.fairness.preemptions,
            "swap": engine.host_pool.stats.per_switch() if engine.host_pool else None,
        }
        engine.close()
    return result


def plot(rows: list[dict], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    rates = [r["rate_rps"] for r in rows]
    for mode in [m for m in MODES if m in rows[0]]:
        ax.plot(rates, [r[mode]["attainment"] for r in rows], "o-", label=mode)
    ax.set(xlabel="arrival rate (requests/s)", ylabel="fraction within SLO", ylim=(0, 1.05),
           title="SLO attainment by scheduler")
    ax.grid(alpha=0.3)
    ax.legend()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "slo_attainment.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def gpu_partition_missing(device: str) -> str | None:
    """Why the phase split cannot run on `device` (a GPU without green contexts or MPS), or None."""
    where = torch.device(device)
    if where.type == "cpu":
        return None
    try:
        choose_partition("auto", where.type, CudaCapability(where.index or 0) if where.type == "cuda" else None)
    except PartitionUnavailable as error:
        return str(error)
    return None


def run(args: argparse.Namespace) -> int:
    if "fcfs" not in args.modes.split(","):
        raise SystemExit("--modes must include fcfs: every ratio and the 90% row are measured against it")
    missing = gpu_partition_missing(args.device) if "phase_split" in args.modes.split(",") else None
    if missing:
        args.modes = ",".join(m for m in args.modes.split(",") if m != "phase_split")
        print(f"semgate bench slo: no phase split here ({missing}); measuring the other modes", file=sys.stderr)
    torch.set_num_threads(args.threads)
    loaded = load_model(args.model, device=args.device, dtype=torch.float32 if args.device == "cpu" else torch.bfloat16,
                        progress=True)
    questions, source = sharegpt_questions(64, 600)
    prompts = [chat_prompt(loaded, q) for q in questions]
    rates = [float(r) for r in args.rates.split(",")]
    results: dict = {"workload": {"prompt_source": source, "requests_per_rate": args.requests,
                                  "chat_fraction": args.chat_fraction, "chat_slo": {"ttft_s": args.ttft_s, "tpot_s": args.tpot_s},
                                  "job_slo": {"deadline_s": args.deadline_s}, "threads": args.threads,
                                  "modes": args.modes.split(",")}}
    results["rates"] = run_rates(args, loaded, prompts, rates)
    holding = [r for r in results["rates"] if r["fcfs"]["attainment"] >= 0.9]
    top = results["rates"][-1]
    results["headline"] = {
        "highest_rate_fcfs_meets_90pct": holding[-1]["rate_rps"] if holding else None,
        "within_slo_ratio_at_highest_rate": {k.removeprefix("within_slo_ratio_"): v for k, v in top.items()
                                             if k.startswith("within_slo_ratio_")}, "goal": 1.5}
    if not args.skip_fairness:
        results["fairness"] = run_fairness(args, loaded, prompts)
    results["plot"] = str(plot(results["rates"], args.out))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{'rate':>5} | {'mode':<11} {'in SLO':>7} {'attain':>7} {'goodput':>8} {'TTFT p99':>9} {'TPOT p99':>9}")
    for row in results["rates"]:
        for mode in [m for m in MODES if m in row]:
            m = row[mode]
            tpot = f"{m['tpot_p99_s']:9.3f}" if m["tpot_p99_s"] is not None else f"{'-':>9}"
            print(f"{row['rate_rps']:5g} | {mode:<11} {m['within_slo']:7d} {m['attainment']:7.2f} "
                  f"{m['goodput_rps']:8.3f} {m['ttft_p99_s']:9.2f} {tpot}")
        for key in sorted(k for k in row if k.startswith("within_slo_ratio_")):
            ratio = "n/a (FCFS met none)" if row[key] is None else f"{row[key]:.2f}x"
            print(f"{'':5} | {key.removeprefix('within_slo_ratio_')}/fcfs requests within SLO: {ratio}")
        if "phase_split" in row:
            split = row["phase_split"]["split"]
            print(f"{'':5} | phase split on {split['partition']}: {len(split['changes'])} split changes, final "
                  f"prefill {split['prefill']} / decode {split['decode']} {split['unit']}")
    for name, f in results.get("fairness", {}).items():
        print(f"fairness {name}: steady TTFT p99 {f['steady_ttft_p99_s']:.2f} s, within SLO "
              f"{f['steady_within_slo']:.0%}, preemptions {f['fairness_preemptions']}, swap {f['swap']}")
    print(f"plot: {results['plot']}")
    return 0
