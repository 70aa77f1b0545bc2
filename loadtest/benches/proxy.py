"""The gateway's cost as a proxy: the same request mix sent straight to an upstream and through the gateway."""

import argparse
import asyncio
import itertools
import json
import random
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import orjson
import psutil

from loadtest.rawhttp import RawConnection
from loadtest.services import Services, free_port

DESCRIPTION = ("proxy overhead: direct to a loopback upstream vs through the gateway (latency, req/s, ratio), "
               "and the p50 each route adds")
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"concurrency": 4, "duration": 0.5}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--concurrency", type=int, default=64, help="connections for the throughput run")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured run")
    parser.add_argument("--upstream-delay-ms", type=float, default=20.0,
                        help="echo upstream time to first token; a real LLM answer is never faster than tens of "
                             "ms (0: an instant upstream, the hardest case for the proxy)")
    parser.add_argument("--stream-share", type=float, default=0.25, help="share of streamed requests in the mix")
    parser.add_argument("--gateway-workers", type=int, default=1)
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    with _Processes() as procs:
        upstream = procs.start_upstream(args.upstream_delay_ms)
        gateway = procs.start_gateway(upstream)
        bodies = _request_mix(args.stream_share)
        result = {"setup": {"concurrency": args.concurrency, "duration_s": args.duration,
                            "upstream_delay_ms": args.upstream_delay_ms, "stream_share": args.stream_share}}
        for label, concurrency, duration in (("single", 1, min(args.duration, 4.0)), ("loaded", args.concurrency, args.duration)):
            # Warm both paths (connections, pools), then measure one after the other.
            asyncio.run(_load(upstream, bodies, concurrency, 1.0))
            asyncio.run(_load(gateway, bodies, concurrency, 1.0))
            with procs.cpu_meter("upstream") as up_cpu:
                direct = asyncio.run(_load(upstream, bodies, concurrency, duration))
            with procs.cpu_meter("gateway") as gw_cpu, procs.cpu_meter("upstream") as up_cpu2:
                proxied = asyncio.run(_load(gateway, bodies, concurrency, duration))
            direct["upstream_cpu_ms_per_req"] = _per_request(up_cpu.seconds, direct)
            proxied["upstream_cpu_ms_per_req"] = _per_request(up_cpu2.seconds, proxied)
            proxied["gateway_cpu_ms_per_req"] = _per_request(gw_cpu.seconds, proxied)
            result[label] = {"direct": direct, "gateway": proxied, **_ratios(direct, proxied)}
        result["routes"] = _by_route(upstream, gateway, min(args.duration, 3.0))
    _print(result, args.json)
    return 0


def _request_mix(stream_share: float) -> list[tuple[str, bytes]]:
    rng = random.Random(7)
    words = "cache paged radix tensor prefix decode latency batch token kernel query tenant".split()
    mix = []
    for i in range(200):
        text = " ".join(rng.choices(words, k=rng.randint(4, 24)))
        body = {"model": "echo-1", "messages": [{"role": "user", "content": text}], "stream": rng.random() < stream_share}
        mix.append(("/v1/chat/completions", orjson.dumps(body)))
    return mix


async def _load(base_url: str, bodies: list[tuple[str, bytes]], concurrency: int, duration: float) -> dict:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    cycle = itertools.cycle(bodies)

    async def worker() -> None:
        nonlocal errors
        conn = RawConnection(base_url)
        try:
            while time.perf_counter() < deadline:
                path, body = next(cycle)
                result = await conn.post(path, body)
                if result.status == 200:
                    latencies.append(result.seconds)
                else:
                    errors += 1
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    lat = np.array(latencies) * 1000
    return {"requests": len(latencies), "errors": errors, "rps": round(len(latencies) / elapsed, 1),
            "p50_ms": round(float(np.percentile(lat, 50)), 3), "p99_ms": round(float(np.percentile(lat, 99)), 3)}


def _route_bodies(route: str, text: str) -> tuple[tuple[str, bytes], tuple[str, bytes]]:
    """(through the gateway, straight to the upstream) for one text on `route`. The upstream speaks chat and
    embeddings only, so the direct side of responses and messages is the chat request they translate to."""
    chat = ("/v1/chat/completions", orjson.dumps({"model": "echo-1", "messages": [{"role": "user", "content": text}]}))
    if route == "completions":
        same = ("/v1/completions", orjson.dumps({"model": "echo-1", "prompt": text}))
        return same, same
    if route == "embeddings":  # passed through to the upstream flagged `embeddings: true`
        same = ("/v1/embeddings", orjson.dumps({"model": "echo-embed", "input": text, "encoding_format": "float"}))
        return same, same
    if route == "responses":
        return ("/v1/responses", orjson.dumps({"model": "echo-1", "input": text})), chat
    if route == "messages":
        messages = [{"role": "user", "content": text}]
        return ("/v1/messages", orjson.dumps({"model": "echo-1", "max_tokens": 256, "messages": messages})), chat
    return chat, chat


ROUTES = ("chat", "completions", "embeddings", "responses", "messages")
ROUTE_TEXTS = 5000


def _by_route(upstream: str, gateway: str, duration: float) -> dict:
    """One connection per route, direct then through the gateway, each request a new text: the p50 each route
    adds. A route this build does not serve (404) is skipped and said so."""
    rng = random.Random(11)
    words = "cache paged radix tensor prefix decode latency batch token kernel query tenant".split()
    # Every text once (numbered): the embeddings pass-through keeps whole answers, and a repeat would be a hit.
    texts = [f"{i} " + " ".join(rng.choices(words, k=rng.randint(4, 24))) for i in range(ROUTE_TEXTS)]
    out: dict = {}
    for route in ROUTES:
        pairs = [_route_bodies(route, text) for text in texts]
        through, direct_bodies = [p[0] for p in pairs], [p[1] for p in pairs]
        warm = [_route_bodies(route, f"warm-up {i}") for i in range(50)]
        probe = httpx.post(gateway + warm[0][0][0], content=warm[0][0][1],
                           headers={"content-type": "application/json"}, timeout=30)
        if probe.status_code == 404 and (probe.json().get("error") or {}).get("code") == "unknown_url":
            out[route] = {"skipped": f"the gateway answers 404 on {through[0][0]}: not served by this build"}
            continue
        asyncio.run(_load(upstream, [p[1] for p in warm], 1, 0.5))
        asyncio.run(_load(gateway, [p[0] for p in warm], 1, 0.5))
        direct = asyncio.run(_load(upstream, direct_bodies, 1, duration))
        proxied = asyncio.run(_load(gateway, through, 1, duration))
        out[route] = {"path": through[0][0], "direct_p50_ms": direct["p50_ms"], "gateway_p50_ms": proxied["p50_ms"],
                      "added_p50_ms": round(proxied["p50_ms"] - direct["p50_ms"], 3), "errors": proxied["errors"]}
    return out


def _per_request(cpu_seconds: float, run: dict) -> float:
    return round(cpu_seconds * 1000 / max(run["requests"] + run["errors"], 1), 3)


def _ratios(direct: dict, proxied: dict) -> dict:
    return {"added_p50_ms": round(proxied["p50_ms"] - direct["p50_ms"], 3),
            "added_p99_ms": round(proxied["p99_ms"] - direct["p99_ms"], 3),
            "throughput_ratio": round(proxied["rps"] / direct["rps"], 3)}


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2))
        return
    print(f"proxy overhead  (upstream delay {result['setup']['upstream_delay_ms']} ms, "
          f"{int(result['setup']['stream_share'] * 100)}% streamed)")
    print(f"{'run':<8}{'path':<9}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for label in ("single", "loaded"):
        for path in ("direct", "gateway"):
            r = result[label][path]
            print(f"{label:<8}{path:<9}{r['rps']:>10}{r['p50_ms']:>10}{r['p99_ms']:>10}")
        r = result[label]
        print(f"{'':<8}{'ratio':<9}{r['throughput_ratio']:>10}  added p50 {r['added_p50_ms']} ms, p99 {r['added_p99_ms']} ms")
        print(f"{'':<8}{'cpu':<9}  gateway {r['gateway']['gateway_cpu_ms_per_req']} ms/req, "
              f"upstream {r['gateway']['upstream_cpu_ms_per_req']} ms/req")
    print(f"{'route':<13}{'direct p50':>12}{'gateway p50':>13}{'added p50 ms':>14}")
    for route, r in result["routes"].items():
        if "skipped" in r:
            print(f"{route:<13}skipped: {r['skipped']}")
        else:
            print(f"{route:<13}{r['direct_p50_ms']:>12}{r['gateway_p50_ms']:>13}{r['added_p50_ms']:>14}")


class _Processes(Services):
    """The upstream and the gateway in their own processes, as in production."""

    def __init__(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        super().__init__(Path(self.tmp.name))

    def __exit__(self, *exc) -> None:
        super().__exit__(*exc)
        self.tmp.cleanup()

    def start_upstream(self, delay_ms: float) -> str:
        port = free_port()
        url = self.start("upstream", ["loadtest.echo_upstream", "--port", str(port), "--model", "echo-1"], port, 60)
        httpx.post(f"{url}/_echo/control", json={"first_token_delay_s": delay_ms / 1000}).raise_for_status()
        return url

    def start_gateway(self, upstream: str) -> str:
        port = free_port()
        config = Path(self.tmp.name) / "gateway.yaml"
        # The cache off, as docs/benchmarks.md says: the proxy's own cost, hits neither helping nor hiding it.
        config.write_text(f"listen: 127.0.0.1:{port}\nbackend: {{enabled: false}}\ncache: {{enabled: false}}\n"
                          f"upstreams: [{{name: echo, base_url: '{upstream}/v1', models: [echo-1]}},\n"
                          f"  {{name: vectors, base_url: '{upstream}/v1', models: [echo-embed], embeddings: true}}]\n")
        return self.start("gateway", ["gateway", "gateway", "--config", str(config), "--log-level", "warning"], port, 60)

    def cpu_meter(self, role: str) -> "_CpuMeter":
        index = {"upstream": 0, "gateway": 1}[role]
        return _CpuMeter(psutil.Process(self.processes[index].pid))


class _CpuMeter:
    """CPU seconds a process spent during a block: robust to other load on the machine."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.seconds = 0.0

    def _now(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def __enter__(self) -> "_CpuMeter":
        self._start = self._now()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = self._now() - self._start
