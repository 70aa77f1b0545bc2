"""What relaying streams costs the backend beside the gateway: closed-loop streams, straight and through a pure proxy.

`--concurrency` clients stream CLINC questions (temperature 0, `--max-tokens`) to the bundled backend in phases
that alternate between straight to it and through a gateway with its cache off (direct, gateway | gateway,
direct | ...). Each phase is drained before the next, so no stream of one side runs during the other. A closed
loop keeps the same number of streams in the backend's batch on both sides, so a longer time per output token
through the gateway is what its relaying takes from the backend on a shared machine; the open-loop e2e bench
shows the same effect mixed with queueing, at a fifth of the precision per minute spent. Printed: time per output
token (mean and p50) per side and their ratio, and the CPU per request of the gateway and of the backend.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import yaml

from loadtest.benches.e2e import gateway_config_text
from loadtest.machine import describe_machine
from loadtest.process_cpu import cpu_seconds
from loadtest.services import Services, free_port
from loadtest.workloads.evaldata import evaldata_file

DESCRIPTION = "time per output token straight to the bundled backend and through a cache-off gateway, closed loop"
SMOKE = {"pairs": 1, "phase": 2, "concurrency": 2, "max_tokens": 4}
SIDES = ("direct", "gateway")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=12, help="streams in flight (default: %(default)s)")
    parser.add_argument("--phase", type=float, default=25.0, help="seconds of each phase (default: %(default)s)")
    parser.add_argument("--pairs", type=int, default=5, help="direct/gateway phase pairs (default: %(default)s)")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--backend-model", default="smollm2-135m", help="--model of the started backend")
    parser.add_argument("--backend-args", default="", help="extra flags for `python -m gpu_backend` (one string)")
    parser.add_argument("--gateway-config", type=Path, help="base gateway.yaml (cpu: ...); the cache is turned off")
    parser.add_argument("--ready-timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=Path("artifacts/relay-cost"))
    parser.add_argument("--json", action="store_true")


@dataclass
class Side:
    tpot_s: list[float] = field(default_factory=list)  # one per completed stream: (last token - first) / (n - 1)
    requests: int = 0
    cpu_s: dict[str, float] = field(default_factory=lambda: {"gateway": 0.0, "backend": 0.0})

    def summary(self) -> dict:
        return {
            "streams": len(self.tpot_s),
            "tpot_mean_s": statistics.fmean(self.tpot_s) if self.tpot_s else None,
            "tpot_p50_s": statistics.median(self.tpot_s) if self.tpot_s else None,
            **{f"{name}_cpu_ms_per_request": 1000 * used / max(1, self.requests) for name, used in self.cpu_s.items()},
        }


async def _phase(url: str, model: str, questions: list[str], args: argparse.Namespace, side: Side, start: int) -> None:
    """Closed loop for `args.phase` seconds, then drained: every stream started here ends here."""
    stop = time.monotonic() + args.phase
    async with httpx.AsyncClient(timeout=httpx.Timeout(300, connect=5)) as client:

        async def one_client(k: int) -> None:
            i = start + k
            while time.monotonic() < stop:
                body = {"model": model, "stream": True, "max_tokens": args.max_tokens, "temperature": 0,
                        "messages": [{"role": "user", "content": questions[i % len(questions)]}]}
                i += args.concurrency
                times = []
                async with client.stream("POST", f"{url}/v1/chat/completions", json=body) as response:
                    response.raise_for_status()
                    async for line in response.aiter_lines():
                        if line.startswith("data: {") and _has_text(orjson.loads(line[6:])):
                            times.append(time.monotonic())
                side.requests += 1
                if len(times) >= 2:
                    side.tpot_s.append((times[-1] - times[0]) / (len(times) - 1))

        await asyncio.gather(*(one_client(k) for k in range(args.concurrency)))


def _has_text(chunk: dict) -> bool:
    choices = chunk.get("choices") or []
    return bool(choices and (choices[0].get("delta") or {}).get("content"))


def measure(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="relay-cost-"))
    questions = [text for text, _ in json.loads(evaldata_file("clinc150.json").read_text())["test"]]
    random.Random(0).shuffle(questions)
    with Services(args.out / "logs") as services:
        port = free_port()
        backend = services.start("backend", ["gpu_backend", "--model", args.backend_model, "--host", "127.0.0.1",
                                             "--port", str(port), "--exit-with-parent", *args.backend_args.split()],
                                 port, args.ready_timeout)
        base = yaml.safe_load(args.gateway_config.read_text()) if args.gateway_config else {}
        port = free_port()
        config = gateway_config_text(base or {}, port, backend, args.backend_model, cache=False)
        (work / "gateway.yaml").write_text(config)
        gateway = services.start("gateway", ["gateway", "gateway", "--config", str(work / "gateway.yaml"),
                                             "--log-level", "warning"], port, args.ready_timeout, cwd=work)
        pids = {"gateway": services.by_name["gateway"].pid, "backend": services.by_name["backend"].pid}
        urls = {"direct": backend, "gateway": gateway}
        asyncio.run(_phase(backend, args.backend_model, questions, args, Side(), 10_000))  # warm-up, not counted
        sides = {name: Side() for name in SIDES}
        for pair in range(args.pairs):
            for name in SIDES if pair % 2 == 0 else SIDES[::-1]:
                before = {role: cpu_seconds(pid) or 0.0 for role, pid in pids.items()}
                asyncio.run(_phase(urls[name], args.backend_model, questions, args, sides[name], pair * 1000))
                for role, pid in pids.items():
                    sides[name].cpu_s[role] += (cpu_seconds(pid) or 0.0) - before[role]
                print(f"pair {pair + 1}/{args.pairs} {name}: {len(sides[name].tpot_s)} streams", file=sys.stderr)
    result = {name: side.summary() for name, side in sides.items()}
    direct, through = result["direct"], result["gateway"]
    for stat in ("tpot_mean_s", "tpot_p50_s"):
        if direct[stat] and through[stat]:
            result[f"{stat.removesuffix('_s')}_gateway_over_direct"] = through[stat] / direct[stat]
    result["setup"] = {"concurrency": args.concurrency, "phase_s": args.phase, "pairs": args.pairs,
                       "max_tokens": args.max_tokens, "machine": describe_machine()}
    return result


def run(args: argparse.Namespace) -> int:
    try:
        result = measure(args)
    except (RuntimeError, httpx.HTTPError) as error:
        print(f"semgate bench relay-cost: {error}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(result, indent=2))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(result["setup"]["machine"])
    for name in SIDES:
        side = result[name]
        print(f"{name:8s} streams {side['streams']:4d}  time per output token mean {_ms(side['tpot_mean_s'])} "
              f"p50 {_ms(side['tpot_p50_s'])}  CPU ms/request gateway {side['gateway_cpu_ms_per_request']:.1f} "
              f"backend {side['backend_cpu_ms_per_request']:.1f}")
    for stat in ("tpot_mean", "tpot_p50"):
        ratio = result.get(f"{stat}_gateway_over_direct")
        if ratio is not None:
            print(f"{stat} gateway / direct: {ratio:.3f} ({100 * (ratio - 1):+.1f}%)")
    return 0


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{1000 * seconds:.2f} ms"
