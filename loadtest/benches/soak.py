"""Soak: the gateway (cache on) in front of the echo upstream on loopback, under many connections
and a mixed hit/miss workload for minutes, with upstream faults injected now and then.

Reports requests, errors by cause (the gateway's fault, the upstream's injected faults, the
client's deliberate bad requests), p50/p99 latency, and the gateway's resident memory after
warm-up and at the end, with a memory-over-time plot. The cache's quota is small, so the
store and index are full by the end of warm-up: memory that keeps growing after it is a leak.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

from loadtest.machine import describe_machine
from loadtest.services import Services, free_port
from loadtest.soak import MixedQuestions, SoakTally, drive, sample_rss

DESCRIPTION = "soak: high concurrency, mixed hits and misses, upstream faults; errors by cause, p50/p99, memory over time"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"duration": 3, "warmup": 1, "concurrency": 4}
MODEL = "echo-1"
SOAK_POLICY = """\
defaults: {{similarity_threshold: 0.9, verify: false, ttl_seconds: 86400, max_entries: {quota}}}
categories:
  - name: default
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load after warm-up (default 300)")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of load before memory is taken as the start")
    parser.add_argument("--concurrency", type=int, default=128, help="connections, each one request at a time")
    parser.add_argument("--repeat", type=float, default=0.4, help="share of exact repeats of earlier questions")
    parser.add_argument("--paraphrase", type=float, default=0.2, help="share of paraphrases of earlier questions")
    parser.add_argument("--stream-share", type=float, default=0.3, help="share of streamed requests")
    parser.add_argument("--bad-share", type=float, default=0.02, help="share of deliberately invalid requests (4xx)")
    parser.add_argument("--fault-every", type=float, default=20.0,
                        help="seconds between injected upstream faults (0: none); each fails the next --fault-count")
    parser.add_argument("--fault-count", type=int, default=3,
                        help="upstream requests each fault fails (5 in a row open the circuit breaker)")
    parser.add_argument("--quota", type=int, default=400,
                        help="cache entries kept (max_entries of the one category): small, so full after warm-up")
    parser.add_argument("--token-delay-ms", type=float, default=1.0, help="echo upstream's time per token")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds a request may take before it counts as a gateway timeout")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("artifacts/soak"))
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0 or not 0 <= args.repeat + args.paraphrase <= 1:
        print("semgate bench soak: need concurrency >= 1, duration > 0, warmup >= 0, repeat + paraphrase <= 1",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="semgate-soak-") as work, Services(args.out / "logs") as services:
        echo_port, gateway_port = free_port(), free_port()
        echo = services.start("echo", ["loadtest.echo_upstream", "--port", str(echo_port), "--model", MODEL,
                                       "--token-delay-ms", str(args.token_delay_ms)], echo_port, 60)
        home = _gateway_home(Path(work), echo, gateway_port, args.quota)
        gateway = services.start("gateway", ["gateway", "gateway", "--config", str(home / "gateway.yaml"),
                                             "--log-level", "warning"], gateway_port, 300, cwd=home)
        result = asyncio.run(_soak(args, gateway, echo, services.processes[-1].pid))
    result["setup"]["machine"] = describe_machine()
    result["plot"] = str(plot_memory(result, args.out / "soak_memory.png"))
    (args.out / "summary.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    return 0 if sum(result["errors"]["gateway"].values()) == 0 else 1


def _gateway_home(work: Path, echo_url: str, port: int, quota: int) -> Path:
    home = work / "gateway"
    (home / "config").mkdir(parents=True)
    (home / "config" / "policies.yaml").write_text(SOAK_POLICY.format(quota=quota))
    config = {"listen": f"127.0.0.1:{port}", "backend": {"enabled": False},
              "cache": {"enabled": True, "store": "var/soak.db", "policies": "config/policies.yaml"},
              "upstreams": [{"name": "echo", "base_url": f"{echo_url}/v1", "models": [MODEL],
                             "timeouts": {"connect_s": 2, "read_s": 30}, "retries": 0}]}
    (home / "gateway.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return home


async def _inject_faults(echo_url: str, every_s: float, count: int, injected: list[float], started: float) -> None:
    async with httpx.AsyncClient(base_url=echo_url, timeout=5) as client:
        while True:
            await asyncio.sleep(every_s)
            await client.post("/_echo/control", json={"fault": "500", "fault_count": count})
            injected.append(time.perf_counter() - started)


async def _soak(args: argparse.Namespace, gateway: str, echo: str, gateway_pid: int) -> dict:
    # Repeats draw on fewer questions than the cache keeps, so they can hit once it is full.
    questions = MixedQuestions(args.repeat, args.paraphrase, args.seed, memory=max(1, min(500, args.quota // 2)))
    warm, tally = SoakTally(), SoakTally()
    started = time.perf_counter()
    rss: list[tuple[float, float]] = []
    injected: list[float] = []
    background = [asyncio.create_task(sample_rss(gateway_pid, rss, started))]
    if args.fault_every > 0:
        background.append(asyncio.create_task(_inject_faults(echo, args.fault_every, args.fault_count, injected, started)))
    common = dict(concurrency=args.concurrency, stream_share=args.stream_share, bad_share=args.bad_share, model=MODEL,
                  timeout_s=args.timeout, progress=not args.no_progress)
    try:
        if args.warmup > 0:
            await drive(gateway, questions, warm, duration_s=args.warmup, **common)
        warmed_at = time.perf_counter() - started
        rss_start = round(rss[-1][1], 1) if rss else None
        tally.started = time.perf_counter()
        await drive(gateway, questions, tally, duration_s=args.duration, **common)
        wall_s = time.perf_counter() - tally.started
    finally:
        for task in background:
            task.cancel()
    return summarize(args, tally, warm, rss, rss_start, warmed_at, wall_s, injected)


def _ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 2) if values else None


def summarize(args, tally: SoakTally, warm: SoakTally, rss, rss_start, warmed_at, wall_s, injected) -> dict:
    after = [mib for t, mib in rss if t >= warmed_at]
    end = round(rss[-1][1], 1) if rss else None
    served = sum(tally.cache.values())
    return {
        "setup": {"duration_s": args.duration, "warmup_s": args.warmup, "concurrency": args.concurrency,
                  "repeat": args.repeat, "paraphrase": args.paraphrase, "stream_share": args.stream_share,
                  "bad_share": args.bad_share, "fault_every_s": args.fault_every, "fault_count": args.fault_count,
                  "quota": args.quota, "token_delay_ms": args.token_delay_ms, "seed": args.seed},
        "requests": tally.requests,
        "ok": tally.ok,
        "throughput_rps": round(tally.requests / wall_s, 1) if wall_s else None,
        "errors": {cause: dict(counts) for cause, counts in tally.errors.items()},
        "warmup": {"requests": warm.requests, "errors": {c: sum(v.values()) for c, v in warm.errors.items()}},
        "faults_injected": len(injected),
        "hit_rate": round(tally.cache["hit"] / served, 4) if served else None,
        "cache": dict(tally.cache),
        "latency_ms": {f"{q}_{kind}": _ms(tally.latency_s[kind], p) for kind in ("all", "hit", "miss")
                       for q, p in (("p50", 50), ("p99", 99))},
        "rss_mib": {"start": rss_start, "end": end, "peak_after_warmup": round(max(after), 1) if after else None,
                    "growth": round(end - rss_start, 1) if end is not None and rss_start is not None else None,
                    "growth_pct": round(100 * (end - rss_start) / rss_start, 1) if end and rss_start else None},
        "rss_series": [(round(t, 1), round(m, 1)) for t, m in rss],
        "warmed_at_s": round(warmed_at, 1),
    }


def plot_memory(result: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    series = result["rss_series"]
    if series:
        ax.plot([t for t, _ in series], [m for _, m in series], label="gateway RSS")
    ax.axvline(result["warmed_at_s"], color="gray", linestyle="--", label="end of warm-up")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("resident memory (MiB)")
    ax.set_title(f"soak: {result['setup']['concurrency']} connections, {result['requests']} requests after warm-up")
    ax.grid(True, alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_result(result: dict) -> str:
    lat, mem, errors = result["latency_ms"], result["rss_mib"], result["errors"]
    lines = [f"== soak: {result['setup']['concurrency']} connections, {result['setup']['duration_s']:g} s after "
             f"{result['setup']['warmup_s']:g} s warm-up ==",
             f"  requests          {result['requests']} ({result['throughput_rps']} req/s), ok {result['ok']}, "
             f"hit rate {result['hit_rate']}",
             *(f"  errors: {cause:<9} {sum(errors[cause].values()):>6}  {errors[cause] or ''}" for cause in errors),
             f"  upstream faults injected: {result['faults_injected']} bursts",
             f"  latency (ms)      p50 {lat['p50_all']}  p99 {lat['p99_all']}   hits p50 {lat['p50_hit']} "
             f"p99 {lat['p99_hit']}   misses p50 {lat['p50_miss']} p99 {lat['p99_miss']}",
             f"  gateway RSS (MiB) after warm-up {mem['start']}  end {mem['end']}  peak {mem['peak_after_warmup']}  "
             f"growth {mem['growth']} ({mem['growth_pct']}%)",
             f"  plot: {result['plot']}", f"  machine: {result['setup']['machine']}"]
    return "\n".join(lines)
