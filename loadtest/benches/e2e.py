"""End to end: one workload sent straight to the backend and through the gateway, in one run."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import yaml

from loadtest.cli import add_workload_arguments, run_config, workload_options
from loadtest.machine import describe_machine
from loadtest.metrics import Summary, active_span_s, summarize
from loadtest.plots import plot_hit_rate_over_time, plot_latency_cdf
from loadtest.process_cpu import cpu_seconds
from loadtest.records import RequestRecord, write_records
from loadtest.report import format_summary
from loadtest.runner import RunConfig, RunResult, run_load_sync
from loadtest.services import Services, free_port
from loadtest.target import require_loopback, served_model
from loadtest.workloads import build_workload
from loadtest.workloads.spec import RequestSpec

DESCRIPTION = "gateway vs direct-to-backend on one workload: latency and throughput ratios, hit and false-hit rates, tokens saved"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"duration": 2, "warmup": 1, "probe_duration": 1, "probe_concurrency": 2, "max_requests": 4, "max_tokens": 4}
_REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_workload_arguments(parser, default_workload="clinc")
    parser.add_argument("--rate", default="auto",
                        help="open-loop req/s for both runs, or 'auto': --overload × the backend's probed capacity")
    parser.add_argument("--overload", type=float, default=1.5, help="auto rate = this × probed direct throughput")
    parser.add_argument("--probe-duration", type=float, default=20.0, help="seconds of the closed-loop capacity probe")
    parser.add_argument("--probe-concurrency", type=int, default=8)
    parser.add_argument("--backend-url", help="use this running backend instead of starting one")
    parser.add_argument("--gateway-url", help="use this running gateway (in front of the backend) instead of starting one")
    parser.add_argument("--backend-model", default="smollm2-135m", help="--model of the started backend")
    parser.add_argument("--backend-args", default="", help="extra flags for `python -m gpu_backend` (one string)")
    parser.add_argument("--gateway-config", type=Path, help="base gateway.yaml; listen, backend and upstreams are replaced")
    parser.add_argument("--ready-timeout", type=float, default=600.0, help="seconds to wait for a started server")
    parser.add_argument("--warmup", type=float, default=60.0,
                        help="seconds of the same workload (another seed) sent before each measured run and not "
                             "counted: the backend warms up and the gateway's cache fills, as in a service that "
                             "has been running (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="the duration is split into this many rounds per side, run in alternating order "
                             "(direct first, then gateway first, ...), so that drift of the machine falls on both "
                             "sides alike (default: %(default)s; 1 = one direct run, then one gateway run)")
    parser.add_argument("--no-cache", action="store_true",
                        help="the gateway with its cache disabled: a pure proxy in front of the backend")
    parser.add_argument("--out", type=Path, default=Path("artifacts/e2e"))
    parser.add_argument("--json", action="store_true")
    # Long enough for repeats to reach the cache (a 30 s run of the default mix saw no hit).
    parser.set_defaults(duration=240.0)


def gateway_config_text(base: dict, port: int, backend_url: str, model: str, cache: bool = True) -> str:
    """The user's gateway config with one upstream: the backend under test (cold cache: fresh working dir)."""
    config = dict(base)
    config["listen"] = f"127.0.0.1:{port}"
    config["backend"] = {"enabled": False}
    if not cache:
        config["cache"] = {**(config.get("cache") or {}), "enabled": False}
    config["upstreams"] = [{"name": "bundled", "base_url": f"{backend_url.rstrip('/')}/v1", "models": [model],
                            "semgate_headers": True,
                            "timeouts": {"connect_s": 2, "read_s": 600}}]
    return yaml.safe_dump(config, sort_keys=False)


class _Stack:
    """Starts (or adopts) the backend and, in front of it, the gateway: both stay up for every round."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work

    def backend(self, services: Services) -> str:
        if self.args.backend_url:
            return self.args.backend_url
        port = free_port()
        # --exit-with-parent: a bench killed without its cleanup leaves no backend eating the cores.
        command = ["gpu_backend", "--model", self.args.backend_model, "--host", "127.0.0.1", "--port", str(port),
                   "--exit-with-parent", *self.args.backend_args.split()]
        return services.start("backend", command, port, self.args.ready_timeout)

    def gateway(self, services: Services, backend_url: str, model: str) -> str:
        if self.args.gateway_url:
            return self.args.gateway_url
        # A new working directory per gateway: relative store paths start empty, so the cache starts cold.
        home = Path(tempfile.mkdtemp(dir=self.work, prefix="gateway-"))
        if _REPO_CONFIG.is_dir():
            shutil.copytree(_REPO_CONFIG, home / "config")
        base = yaml.safe_load(self.args.gateway_config.read_text()) if self.args.gateway_config else {}
        port = free_port()
        (home / "gateway.yaml").write_text(gateway_config_text(base or {}, port, backend_url, model,
                                                               cache=not self.args.no_cache))
        command = ["gateway", "gateway", "--config", str(home / "gateway.yaml"), "--log-level", "warning"]
        return services.start("gateway", command, port, self.args.ready_timeout, cwd=home)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def compare(direct: Summary, gateway: Summary) -> dict:
    """Speed-ups are direct/gateway for latencies and gateway/direct for rates: above 1, the gateway wins."""
    saved = gateway.saved_completion_tokens + gateway.saved_prompt_tokens
    return {
        "mean_latency_speedup": _ratio(direct.e2e_s.mean, gateway.e2e_s.mean),
        "p99_latency_speedup": _ratio(direct.e2e_s.p99, gateway.e2e_s.p99),
        "mean_ttft_speedup": _ratio(direct.ttft_s.mean, gateway.ttft_s.mean),
        "throughput_ratio": _ratio(gateway.throughput_rps, direct.throughput_rps),
        "goodput_ratio": _ratio(gateway.goodput_rps, direct.goodput_rps),
        "hit_rate": gateway.hit_rate,
        "false_hit_rate": gateway.false_hits.rate,
        "false_hits": gateway.false_hits.false,
        "hits_judged": gateway.false_hits.judged,
        "upstream_tokens_saved": saved,
        "upstream_completion_tokens_saved": gateway.saved_completion_tokens,
        "upstream_tokens_saved_fraction": _ratio(saved, gateway.prompt_tokens + gateway.completion_tokens),
    }


def run(args: argparse.Namespace) -> int:
    try:
        for url in (args.backend_url, args.gateway_url):
            if url:
                require_loopback(url, args.allow_remote)
        fixed_rate = None if args.rate == "auto" else float(args.rate)
        if fixed_rate is not None and fixed_rate <= 0:
            raise ValueError("--rate must be positive or 'auto'")
    except ValueError as error:  # RemoteTargetError included
        print(f"semgate bench e2e: {error}", file=sys.stderr)
        return 2
    try:
        direct, through, measured = measure(args, fixed_rate)
    except (RuntimeError, httpx.HTTPError) as error:
        print(f"semgate bench e2e: {error}", file=sys.stderr)
        return 1
    direct_summary, gateway_summary = summarize(direct.records), summarize(through.records)
    capacity = measured["direct_capacity_rps"]
    result = {
        "setup": {"workload": args.workload, **measured,
                  "rate_source": "given" if capacity is None else f"{args.overload:g} x probed direct capacity",
                  "duration_s": args.duration, "max_tokens": args.max_tokens, "stream": args.stream,
                  "seed": args.seed, "machine": describe_machine()},
        "direct": direct_summary.to_dict(),
        "gateway": gateway_summary.to_dict(),
        "comparison": compare(direct_summary, gateway_summary),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    write_records(args.out / "records-direct.jsonl", direct.records)
    write_records(args.out / "records-gateway.jsonl", through.records)
    result["plots"] = [str(plot_latency_cdf({"direct": direct.records, "gateway": through.records}, args.out / "latency_cdf.png")),
                       str(plot_hit_rate_over_time(through.records, args.out / "hit_rate_over_time.png"))]
    (args.out / "summary.json").write_text(json.dumps(result, indent=2))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_summary(direct_summary, "direct to backend"))
        print(format_summary(gateway_summary, "through the gateway"))
        print(format_comparison(result))
    return 0 if direct_summary.ok and gateway_summary.ok else 1


def round_order(rounds: int) -> list[tuple[str, ...]]:
    """Which side goes first in each round: direct, gateway | gateway, direct | ... (ABBA).

    Alternating cancels what the order favours (the backend's prefix cache warmed by the first side, a
    machine slowly drifting); rounds spread both sides over the same stretch of time."""
    return [("direct", "gateway") if k % 2 == 0 else ("gateway", "direct") for k in range(rounds)]


class _Side:
    """One side's records and process CPU seconds, summed over its rounds."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.cpu_s: dict[str, float | None] = {}
        self.elapsed_s = 0.0  # where the next round's records start on this side's timeline

    def add(self, result: RunResult, cpu_s: dict[str, float | None]) -> None:
        # Each round's clock starts at 0: its records are moved behind the previous rounds', so the side's
        # throughput is spread over the sum of its rounds and not over the other side's rounds in between.
        offset, first_index = self.elapsed_s, len(self.records)
        moved = [replace(r, index=first_index + r.index, start_s=r.start_s + offset, scheduled_s=r.scheduled_s + offset)
                 for r in result.records]
        self.records += moved
        self.elapsed_s = offset + active_span_s(result.records)
        for name, seconds in cpu_s.items():
            known = self.cpu_s.get(name, 0.0)
            self.cpu_s[name] = None if seconds is None or known is None else known + seconds

    def cpu_ms_per_request(self) -> dict[str, float | None]:
        requests = max(len(self.records), 1)
        return {f"{name}_cpu_ms_per_request": None if self.cpu_s.get(name) is None else 1000 * self.cpu_s[name] / requests
                for name in ("backend", "gateway")}


def measure(args: argparse.Namespace, fixed_rate: float | None) -> tuple[RunResult, RunResult, dict]:
    """Both sides at the same rate with the same seeds, in interleaved rounds after the same warm-up.

    One backend serves both sides; the gateway stays up (idle) during the direct rounds, so what it costs
    at rest shows in the direct side's gateway CPU."""
    rounds = max(1, args.rounds)
    with tempfile.TemporaryDirectory(prefix="semgate-e2e-") as work, Services(args.out / "logs") as services:
        stack = _Stack(args, Path(work))
        backend = stack.backend(services)
        model = args.model or served_model(backend, args.api_key)
        options = workload_options(args, model)
        rate, capacity = fixed_rate, None
        if rate is None:
            probe = replace(run_config(args, backend, "probe backend capacity", concurrency=args.probe_concurrency),
                            duration_s=args.probe_duration)
            probe_requests = build_workload(args.workload, replace(options, seed=options.seed + 1)).requests()
            capacity = summarize(run_load_sync(probe, probe_requests).records).throughput_rps
            if not capacity:
                raise RuntimeError("the backend completed no request during the capacity probe")
            rate = args.overload * capacity
        urls = {"direct": backend, "gateway": stack.gateway(services, backend, model)}
        labels = {"direct": "direct to backend", "gateway": "through gateway"}
        # One request stream per side, the same on both: the warm-up and then every round draw from it, so
        # the warm-up fills the cache with what the measured rounds ask (a stream from another seed ranks
        # other questions as popular), and both sides get the same requests at the same instants.
        streams = {side: build_workload(args.workload, options).requests() for side in urls}
        if args.warmup > 0:  # the backend warms up and the gateway's cache fills, as in a service that has run
            for side in ("direct", "gateway"):
                config = replace(run_config(args, urls[side], f"{labels[side]}: warm-up", rate=rate),
                                 duration_s=args.warmup)
                run_load_sync(config, streams[side])
        sides = {"direct": _Side(), "gateway": _Side()}
        for k, order in enumerate(round_order(rounds)):
            for side in order:
                config = replace(run_config(args, urls[side], f"{labels[side]} ({k + 1}/{rounds})", rate=rate),
                                 duration_s=args.duration / rounds)
                sides[side].add(*_timed_run(services, config, streams[side]))
    results = {side: RunResult(config=run_config(args, urls[side], labels[side], rate=rate), records=s.records,
                               wall_s=s.elapsed_s) for side, s in sides.items()}
    cpu = {side: s.cpu_ms_per_request() for side, s in sides.items()}
    return results["direct"], results["gateway"], {"model": model, "rate_rps": rate, "direct_capacity_rps": capacity,
                                                   "rounds": rounds, "cpu": cpu}


def _timed_run(services: Services, config: RunConfig, requests: Iterator[RequestSpec]
               ) -> tuple[RunResult, dict[str, float | None]]:
    """One measured round, with the CPU seconds each process the bench started spent in it (None for a
    server it did not start)."""
    before = {name: cpu_seconds(p.pid) for name, p in services.by_name.items()}
    result = run_load_sync(config, requests)
    spent: dict[str, float | None] = {}
    for name in ("backend", "gateway"):
        process = services.by_name.get(name)
        after = cpu_seconds(process.pid) if process is not None else None
        start = before.get(name)
        spent[name] = after - start if after is not None and start is not None else None
    return result, spent


def format_comparison(result: dict) -> str:
    setup, d, g, c = result["setup"], result["direct"], result["gateway"], result["comparison"]

    def num(value: float | None, scale: float = 1.0, digits: int = 2, suffix: str = "") -> str:
        return "-" if value is None else f"{value * scale:.{digits}f}{suffix}"

    def faster(ratio: float | None) -> str:
        if ratio is None:
            return "-"
        return f"{ratio:.2f}x ({'gateway faster' if ratio > 1 else 'gateway slower'})"

    rows = [
        ("throughput (req/s)", num(d["throughput_rps"]), num(g["throughput_rps"]), num(c["throughput_ratio"], suffix="x")),
        ("goodput (req/s)", num(d["goodput_rps"]), num(g["goodput_rps"]), num(c["goodput_ratio"], suffix="x")),
        ("mean latency (ms)", num(d["e2e_s"]["mean"], 1000, 1), num(g["e2e_s"]["mean"], 1000, 1), faster(c["mean_latency_speedup"])),
        ("p99 latency (ms)", num(d["e2e_s"]["p99"], 1000, 1), num(g["e2e_s"]["p99"], 1000, 1), faster(c["p99_latency_speedup"])),
        ("mean TTFT (ms)", num(d["ttft_s"]["mean"], 1000, 1), num(g["ttft_s"]["mean"], 1000, 1), faster(c["mean_ttft_speedup"])),
        ("errors", str(sum(d["errors"].values())), str(sum(g["errors"].values())), ""),
        ("hit rate", "-", num(c["hit_rate"], 100, 1, "%"), ""),
        ("false-hit rate", "-", num(c["false_hit_rate"], 100, 2, "%"), f"{c['false_hits']}/{c['hits_judged']} hits judged"),
        ("upstream tokens saved", "-", str(c["upstream_tokens_saved"]),
         num(c["upstream_tokens_saved_fraction"], 100, 1, "% of the run's tokens")),
        ("time per output token p50 (ms)", num(d["tpot_s"]["p50"], 1000, 1), num(g["tpot_s"]["p50"], 1000, 1),
         faster(_ratio(d["tpot_s"]["p50"], g["tpot_s"]["p50"]))),
    ]
    cpu = setup.get("cpu") or {}
    for process in ("backend", "gateway"):
        key = f"{process}_cpu_ms_per_request"
        direct_cpu, gateway_cpu = (cpu.get(side, {}).get(key) for side in ("direct", "gateway"))
        if direct_cpu is not None or gateway_cpu is not None:
            rows.append((f"{process} CPU ms / request", num(direct_cpu, digits=1), num(gateway_cpu, digits=1), ""))
    rate = f"{setup['rate_rps']:.2f} req/s ({setup['rate_source']})"
    lines = [f"== e2e: {setup['workload']} at {rate}, {setup['duration_s']:g} s, model {setup['model']} ==",
             f"  {'':<24}{'direct':>12}{'gateway':>12}  gateway vs direct"]
    lines += [f"  {name:<24}{a:>12}{b:>12}  {r}".rstrip() for name, a, b, r in rows]
    lines.append(f"  machine: {setup['machine']}")
    return "\n".join(lines)
