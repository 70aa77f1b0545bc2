"""`semgate loadtest`: drive a workload at a target and write records, a summary and plots."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from loadtest import smoke
from loadtest.metrics import Summary, answer_sources, summarize
from loadtest.plots import plot_goodput_vs_rate, plot_hit_rate_over_time, plot_latency_cdf
from loadtest.records import RequestRecord, write_records
from loadtest.report import format_rate_sweep, format_summary
from loadtest.runner import RunConfig, run_load_sync
from loadtest.target import require_loopback, served_model
from loadtest.workloads import SLO, WORKLOADS, WorkloadOptions, build_workload

DESCRIPTION = "drive a workload (open-loop rate or closed-loop concurrency) at an OpenAI-compatible target"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"rate": smoke.FIRST, "concurrency": 2, "duration": 2, "max_requests": 4, "max_tokens": 8}


def _rates(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected rates like 2 or 1,2,4; got {text!r}") from None
    if not rates or any(r <= 0 for r in rates):
        raise argparse.ArgumentTypeError("rates must be positive")
    return rates


def add_workload_arguments(parser: argparse.ArgumentParser, default_workload: str) -> None:
    """Flags that define the request stream; shared with `semgate bench e2e`."""
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default=default_workload)
    parser.add_argument("--workload-file", type=Path, help="data file (required for jsonl; overrides the bundled data)")
    parser.add_argument("--model", help="model to request (default: the first of the target's /v1/models)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--no-stream", dest="stream", action="store_false", help="non-streaming requests")
    parser.add_argument("--seed", type=int, default=0, help="seeds the workload and the arrivals")
    parser.add_argument("--zipf", type=float, default=1.1, help="power-law exponent of repeated items")
    parser.add_argument("--system-prompt", help="system message put first in chat requests that have none")
    parser.add_argument("--slo-ttft-ms", type=float, help="per-request TTFT objective (goodput)")
    parser.add_argument("--slo-tpot-ms", type=float, help="per-request time-per-output-token objective")
    parser.add_argument("--slo-e2e-ms", type=float, help="per-request end-to-end objective")
    parser.add_argument("--cv", type=float, default=1.0, help="gap coefficient of variation: 1 Poisson, else gamma")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sending per run")
    parser.add_argument("--max-requests", type=int, default=10_000, help="cap on requests per run")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request limit; also the drain after --duration")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"), help="bearer key (default $OPENAI_API_KEY)")
    parser.add_argument("--allow-remote", action="store_true", help="permit a non-loopback target")
    parser.add_argument("--no-progress", dest="progress", action="store_false")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", required=True, help="base URL, e.g. http://127.0.0.1:8080 (or .../v1)")
    add_workload_arguments(parser, default_workload="clinc")
    load = parser.add_mutually_exclusive_group(required=True)
    load.add_argument("--rate", type=_rates, help="open-loop req/s; a list (1,2,4) runs one after another")
    load.add_argument("--concurrency", type=int, help="closed loop: this many requests always in flight")
    parser.add_argument("--out", type=Path, default=Path("artifacts/loadtest"), help="records, summary.json, plots")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON instead of tables")


def slo_from_args(args: argparse.Namespace) -> SLO | None:
    ms = (args.slo_ttft_ms, args.slo_tpot_ms, args.slo_e2e_ms)
    if all(v is None for v in ms):
        return None
    ttft, tpot, e2e = (None if v is None else v / 1000 for v in ms)
    return SLO(ttft_s=ttft, tpot_s=tpot, e2e_s=e2e)


def workload_options(args: argparse.Namespace, model: str) -> WorkloadOptions:
    return WorkloadOptions(model=model, seed=args.seed, max_tokens=args.max_tokens, stream=args.stream,
                           slo=slo_from_args(args), path=args.workload_file, zipf_s=args.zipf,
                           system_prompt=args.system_prompt)


def run_config(args: argparse.Namespace, target: str, label: str, rate: float | None = None,
               concurrency: int | None = None) -> RunConfig:
    return RunConfig(target=target, rate=rate, concurrency=concurrency, cv=args.cv, duration_s=args.duration,
                     max_requests=args.max_requests, request_timeout_s=args.timeout, seed=args.seed,
                     api_key=args.api_key, allow_remote=args.allow_remote, progress=args.progress, label=label)


@dataclass
class LoadRun:
    name: str  # "rate-4" or "concurrency-8"
    rate: float | None
    concurrency: int | None
    records: list[RequestRecord]
    summary: Summary


def run(args: argparse.Namespace) -> int:
    try:
        require_loopback(args.target, args.allow_remote)
        model = args.model or served_model(args.target, args.api_key)
        options = workload_options(args, model)
        workload = build_workload(args.workload, options)
    except httpx.HTTPError as error:
        print(f"semgate loadtest: cannot list the target's models ({error}); is it running? (or pass --model)", file=sys.stderr)
        return 2
    except (ValueError, OSError) as error:  # RemoteTargetError is a ValueError
        print(f"semgate loadtest: {error}", file=sys.stderr)
        return 2
    loads = [(rate, None) for rate in args.rate] if args.rate else [(None, args.concurrency)]
    runs: list[LoadRun] = []
    seen: list[RequestRecord] = []
    for rate, concurrency in loads:
        name = f"rate-{rate:g}" if rate is not None else f"concurrency-{concurrency}"
        config = run_config(args, args.target, f"{args.workload} {name}", rate, concurrency)
        # The same seed gives every run the same request sequence, so runs differ only in load.
        result = run_load_sync(config, workload.requests())
        seen += result.records
        # Hits in a later run may come from answers stored during an earlier one.
        runs.append(LoadRun(name, rate, concurrency, result.records, summarize(result.records, answer_sources(seen))))
    write_outputs(args, model, runs)
    return 0 if any(r.summary.ok for r in runs) else 1


def write_outputs(args: argparse.Namespace, model: str, runs: list[LoadRun]) -> None:
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    plots = [plot_latency_cdf({r.name: r.records for r in runs}, out / "latency_cdf.png")]
    for r in runs:
        write_records(out / f"records-{r.name}.jsonl", r.records)
        if r.summary.hit_rate is not None:
            plots.append(plot_hit_rate_over_time(r.records, out / f"hit_rate_over_time-{r.name}.png"))
    swept = [(r.rate, r.summary) for r in runs if r.rate is not None]
    if len(swept) > 1:
        plots.append(plot_goodput_vs_rate(swept, out / "goodput_vs_rate.png"))
    document = {
        "target": args.target, "workload": args.workload, "model": model, "seed": args.seed,
        "runs": [{"name": r.name, "rate": r.rate, "concurrency": r.concurrency, "cv": args.cv,
                  "records": str(out / f"records-{r.name}.jsonl"), "summary": r.summary.to_dict()} for r in runs],
        "plots": [str(p) for p in plots],
    }
    (out / "summary.json").write_text(json.dumps(document, indent=2))
    if args.json:
        print(json.dumps(document, indent=2))
        return
    for r in runs:
        print(format_summary(r.summary, f"{args.workload} → {args.target}, {r.name}"))
    if len(swept) > 1:
        print(format_rate_sweep(swept))
    print(f"records, summary.json and plots in {out}/")
