"""Soak: the gateway (cache on) in front of the echo upstream and a hostile one on loopback, under many
connections and a mixed hit/miss workload, with upstream faults injected now and then; after a calm
phase, a hostile share joins (loadtest/hostile_mix.py: regex bait, deep JSON, slow clients, flooding,
trickling and malformed upstreams, clients that leave).

Reports, for the well-behaved requests of each phase, errors by cause (the gateway's fault, the
upstream's injected faults, the client's deliberate bad requests) and p50/p99 latency; for the
hostile share, what each kind got and every outcome that is the gateway's fault; the event loop's
longest stall (measured inside the gateway, gateway/observe/loop_lag.py); and the gateway's resident memory
at start, after warm-up and at the end, with a memory-over-time plot. The cache's quota is small, so
the store and index are full by the end of warm-up: memory that keeps growing after it is a leak.
SEMGATE_SMOKE=1 makes every default tiny (a few seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import yaml

from loadtest import smoke
from loadtest.hostile_mix import HostileSettings, HostileTally, drive_hostile
from loadtest.machine import describe_machine
from loadtest.services import Services, free_port
from loadtest.soak import MixedQuestions, SoakTally, drive, rss_mib, sample_rss

DESCRIPTION = ("soak: high concurrency, mixed hits and misses, upstream faults, then a hostile share; "
               "errors by cause, p50/p99, event-loop stalls, memory over time")
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py): a few seconds, bait small enough to be quick
SMOKE = {"duration": 8, "warmup": 2, "concurrency": 8, "hostile_concurrency": 4, "bait_chars": 1000,
         "fault_every": 3}
MODEL = "echo-1"
MESSAGE_LIMIT = 256_000  # the gateway's default limits.max_message_chars: the regex bait's default length
SOAK_POLICY = """\
defaults: {{similarity_threshold: 0.9, verify: false, ttl_seconds: 86400, max_entries: {quota}}}
categories:
  - name: default
"""
HOSTILE_LIMITS = {"header_timeout_s": 2, "body_timeout_s": 2, "max_answer_bytes": 1 << 20}
HOSTILE_TIMEOUTS = {"connect_s": 2, "read_s": 2, "total_s": 3}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=60.0,
                        help="seconds of load after warm-up, half calm, half with the hostile share (default 60)")
    parser.add_argument("--warmup", type=float, default=15.0,
                        help="seconds of load before memory is taken as the start")
    parser.add_argument("--concurrency", type=int, default=64,
                        help="well-behaved connections, each one request at a time")
    parser.add_argument("--hostile-concurrency", type=int, default=8,
                        help="hostile clients in the second half (0: no hostile share)")
    parser.add_argument("--bait-chars", type=int, default=MESSAGE_LIMIT,
                        help="length of the regex-bait message (default: the message size limit)")
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
    if (args.concurrency < 1 or args.hostile_concurrency < 0 or args.duration <= 0 or args.warmup < 0
            or not 0 <= args.repeat + args.paraphrase <= 1 or not 2 <= args.bait_chars <= MESSAGE_LIMIT):
        print("semgate bench soak: need concurrency >= 1, hostile-concurrency >= 0, duration > 0, warmup >= 0, "
              f"repeat + paraphrase <= 1, 2 <= bait-chars <= {MESSAGE_LIMIT}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    # The hostile upstream quotes back the key it is sent: the soak checks that no client ever sees it.
    os.environ["SEMGATE_SOAK_HOSTILE_KEY"] = key = f"sk-soak-{secrets.token_hex(8)}"
    with tempfile.TemporaryDirectory(prefix="semgate-soak-") as work, Services(args.out / "logs") as services:
        echo_port, hostile_port, gateway_port = free_port(), free_port(), free_port()
        echo = services.start("echo", ["loadtest.echo_upstream", "--port", str(echo_port), "--model", MODEL,
                                       "--token-delay-ms", str(args.token_delay_ms)], echo_port, 60)
        hostile = services.start("hostile", ["loadtest.hostile_upstream", "--port", str(hostile_port),
                                             "--slow-s", "3"], hostile_port, 60)
        home = _gateway_home(Path(work), echo, hostile, gateway_port, args.quota)
        gateway = services.start("gateway", ["gateway", "gateway", "--config", str(home / "gateway.yaml"),
                                             "--log-level", "warning"], gateway_port, 300, cwd=home)
        result = asyncio.run(_soak(args, gateway, echo, hostile, services.processes[-1].pid, key))
    result["setup"]["machine"] = describe_machine()
    result["plot"] = str(plot_memory(result, args.out / "soak_memory.png"))
    (args.out / "summary.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2) if args.json else format_result(result))
    return 0 if result["gateway_faults"] == 0 else 1


def _gateway_home(work: Path, echo_url: str, hostile_url: str, port: int, quota: int) -> Path:
    home = work / "gateway"
    (home / "config").mkdir(parents=True)
    (home / "config" / "policies.yaml").write_text(SOAK_POLICY.format(quota=quota))
    config = {"listen": f"127.0.0.1:{port}", "backend": {"enabled": False}, "limits": HOSTILE_LIMITS,
              "cache": {"enabled": True, "store": "var/soak.db", "policies": "config/policies.yaml"},
              "upstreams": [{"name": "echo", "base_url": f"{echo_url}/v1", "models": [MODEL],
                             "timeouts": {"connect_s": 2, "read_s": 30}, "retries": 0},
                            {"name": "hostile", "base_url": f"{hostile_url}/v1",
                             "api_key_env": "SEMGATE_SOAK_HOSTILE_KEY", "models": ["flood-1", "trickle-1", "malformed-1", "slow-1"], "timeouts": HOSTILE_TIMEOUTS,
                             "retries": 0, "circuit_breaker": {"enabled": False}}]}
    (home / "gateway.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return home


async def _inject_faults(echo_url: str, every_s: float, count: int, injected: list[float], started: float) -> None:
    async with httpx.AsyncClient(base_url=echo_url, timeout=5) as client:
        while True:
            await asyncio.sleep(every_s)
            await client.post("/_echo/control", json={"fault": "500", "fault_count": count})
            injected.append(time.perf_counter() - started)


async def loop_lag(gateway: str, timeout_s: float) -> dict | None:
    """The gateway's event-loop stall figures from its /metrics: the longest since start, and how many
    10 ms wake-ups were measured and how many of them came over 50 ms late. None when the gateway did
    not answer within `timeout_s` (a stalled loop: reported as such)."""
    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            text = (await client.get(f"{gateway}/metrics")).text
    except httpx.HTTPError:
        return None

    def value(pattern: str) -> float:
        match = re.search(pattern + r" ([0-9.e+-]+)", text)
        return float(match.group(1)) if match else 0.0

    return {"max_s": value(r"(?m)^semgate_event_loop_lag_max_seconds"),
            "count": value(r"(?m)^semgate_event_loop_lag_seconds_count"),
            "within_50ms": value(r'(?m)^semgate_event_loop_lag_seconds_bucket\{le="0\.05"\}')}


async def _soak(args: argparse.Namespace, gateway: str, echo: str, hostile: str, gateway_pid: int, key: str) -> dict:
    # Repeats draw on fewer questions than the cache keeps, so they can hit once it is full.
    questions = MixedQuestions(args.repeat, args.paraphrase, args.seed, memory=max(1, min(500, args.quota // 2)))
    warm, calm, stormy, hostile_tally = SoakTally(), SoakTally(), SoakTally(), HostileTally()
    started = time.perf_counter()
    rss: list[tuple[float, float]] = []
    rss_start = rss_mib(gateway_pid)
    injected: list[float] = []
    background = [asyncio.create_task(sample_rss(gateway_pid, rss, started))]
    if args.fault_every > 0:
        background.append(asyncio.create_task(
            _inject_faults(echo, args.fault_every, args.fault_count, injected, started)))
    common = dict(concurrency=args.concurrency, stream_share=args.stream_share, bad_share=args.bad_share, model=MODEL,
                  timeout_s=args.timeout, progress=not args.no_progress)
    settings = HostileSettings(bait_chars=args.bait_chars, slow_client_wait_s=HOSTILE_LIMITS["header_timeout_s"] + 10,
                               timeout_s=args.timeout, upstream_key=key)
    lags = {}
    try:
        if args.warmup > 0:
            await drive(gateway, questions, warm, duration_s=args.warmup, **common)
        warmed_at = time.perf_counter() - started
        rss_warm = rss_mib(gateway_pid)
        lags["warmup"] = await loop_lag(gateway, args.timeout)
        half = args.duration / 2
        calm.started = time.perf_counter()
        await drive(gateway, questions, calm, duration_s=half, **common)
        lags["calm"] = await loop_lag(gateway, args.timeout)
        stormy.started = time.perf_counter()
        await asyncio.gather(
            drive(gateway, questions, stormy, duration_s=half, **common),
            drive_hostile(gateway, hostile_tally, settings, concurrency=args.hostile_concurrency, duration_s=half,
                          seed=args.seed))
        lags["hostile"] = await loop_lag(gateway, args.timeout)
        async with httpx.AsyncClient(timeout=10) as client:
            upstream_stats = (await client.get(f"{hostile}/_hostile/stats")).json()
    finally:
        for task in background:
            task.cancel()
    rss_end = rss_mib(gateway_pid)
    return summarize(args, warm, calm, stormy, hostile_tally, upstream_stats, lags, rss,
                     (rss_start, rss_warm, rss_end), warmed_at, injected)


def _ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 2) if values else None


def _phase(tally: SoakTally, half_s: float) -> dict:
    served = sum(tally.cache.values())
    return {
        "requests": tally.requests, "ok": tally.ok,
        "throughput_rps": round(tally.requests / half_s, 1) if half_s else None,
        "errors": {cause: dict(counts) for cause, counts in tally.errors.items()},
        "hit_rate": round(tally.cache["hit"] / served, 4) if served else None,
        "cache": dict(tally.cache),
        "latency_ms": {f"{q}_{kind}": _ms(tally.latency_s[kind], p) for kind in ("all", "hit", "miss")
                       for q, p in (("p50", 50), ("p99", 99))},
    }


def _stalls(before: dict | None, after: dict | None) -> dict | None:
    if before is None or after is None:
        return None  # /metrics did not answer in time: the loop was stalled longer than the client waits
    return {"longest_since_start_ms": round(after["max_s"] * 1000, 1),
            "wakeups": int(after["count"] - before["count"]),
            "over_50ms": int((after["count"] - after["within_50ms"]) - (before["count"] - before["within_50ms"]))}


def summarize(args, warm, calm, stormy, hostile, upstream_stats, lags, rss, rss_points, warmed_at, injected) -> dict:
    after = [mib for t, mib in rss if t >= warmed_at]
    start, warmed, end = (round(m, 1) if m is not None else None for m in rss_points)
    hostile_summary = hostile.summary()
    # A client that left before its answer must have cancelled the upstream request: slow-1 never answers one.
    not_told = upstream_stats.get("answered", 0)
    if not_told:
        hostile_summary["gateway_faults"]["disconnect:upstream_not_cancelled"] = not_told
    phases = {"calm": _phase(calm, args.duration / 2), "hostile": _phase(stormy, args.duration / 2)}
    faults = (sum(sum(p["errors"]["gateway"].values()) for p in phases.values())
              + sum(hostile_summary["gateway_faults"].values()))
    zero = {"max_s": 0.0, "count": 0.0, "within_50ms": 0.0}
    return {
        "setup": {"duration_s": args.duration, "warmup_s": args.warmup, "concurrency": args.concurrency,
                  "hostile_concurrency": args.hostile_concurrency, "bait_chars": args.bait_chars,
                  "repeat": args.repeat, "paraphrase": args.paraphrase, "stream_share": args.stream_share,
                  "bad_share": args.bad_share, "fault_every_s": args.fault_every, "fault_count": args.fault_count,
                  "quota": args.quota, "token_delay_ms": args.token_delay_ms, "seed": args.seed, "smoke": smoke.enabled()},
        "gateway_faults": faults,
        "phases": phases,
        "hostile": {**hostile_summary, "upstream": upstream_stats},
        "warmup": {"requests": warm.requests, "errors": {c: sum(v.values()) for c, v in warm.errors.items()}},
        "faults_injected": len(injected),
        "event_loop_stall": {"warmup": _stalls(zero, lags["warmup"]), "calm": _stalls(lags["warmup"], lags["calm"]),
                             "hostile": _stalls(lags["calm"], lags["hostile"])},
        "rss_mib": {"start": start, "after_warmup": warmed, "end": end,
                    "peak_after_warmup": round(max(after), 1) if after else None,
                    "growth_after_warmup": round(end - warmed, 1) if end is not None and warmed is not None else None,
                    "growth_pct": round(100 * (end - warmed) / warmed, 1) if end and warmed else None},
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
    warmed = result["warmed_at_s"]
    ax.axvline(warmed, color="gray", linestyle="--", label="end of warm-up")
    ax.axvline(warmed + result["setup"]["duration_s"] / 2, color="red", linestyle=":", label="hostile share joins")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("resident memory (MiB)")
    setup = result["setup"]
    ax.set_title(f"soak: {setup['concurrency']} connections + {setup['hostile_concurrency']} hostile")
    ax.grid(True, alpha=0.3)
    ax.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_result(result: dict) -> str:
    setup, mem, stall = result["setup"], result["rss_mib"], result["event_loop_stall"]
    lines = [f"== soak: {setup['concurrency']} connections, {setup['duration_s']:g} s after {setup['warmup_s']:g} s "
             f"warm-up; hostile share ({setup['hostile_concurrency']} clients) in the second half ==",
             f"  gateway faults: {result['gateway_faults']}   upstream faults injected: {result['faults_injected']}"]
    for name, phase in result["phases"].items():
        lat, errors = phase["latency_ms"], phase["errors"]
        lines += [f"  [{name}] requests {phase['requests']} ({phase['throughput_rps']} req/s), ok {phase['ok']}, "
                  f"hit rate {phase['hit_rate']}; well-behaved p50 {lat['p50_all']} ms  p99 {lat['p99_all']} ms",
                  *(f"      errors: {cause:<9} {sum(errors[cause].values()):>6}  {errors[cause] or ''}"
                    for cause in errors)]
    hostile = result["hostile"]
    lines += [f"  hostile sent {hostile['sent']}", f"         as expected {hostile['as_expected']}",
              f"         gateway faults {hostile['gateway_faults'] or 'none'}",
              f"         hostile upstream {hostile['upstream']}"]
    lines += [f"  event loop: longest stall since start {stall[p]['longest_since_start_ms']} ms at the end of {p}; "
              f"{stall[p]['over_50ms']} of {stall[p]['wakeups']} wake-ups over 50 ms" if stall[p] else
              f"  event loop: /metrics did not answer within --timeout at the end of {p} (stalled)" for p in stall]
    lines += [f"  gateway RSS (MiB) start {mem['start']}  after warm-up {mem['after_warmup']}  end {mem['end']}  "
              f"peak {mem['peak_after_warmup']}  growth {mem['growth_after_warmup']} ({mem['growth_pct']}%)",
              f"  plot: {result['plot']}", f"  machine: {setup['machine']}"]
    return "\n".join(lines)
