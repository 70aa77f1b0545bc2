"""`semgate bench replicas`: the Redis store shared by gateway replicas, against the embedded SQLite store.

Starts its own redis-server, an echo upstream, one gateway on SQLite and two on the same
Redis (each a subprocess, as in production), then measures through HTTP:

1. hit latency with the Redis store versus SQLite (exact and semantic hits, p50/p99);
2. cross-replica propagation: store an answer through replica A, then ask B a paraphrase
   (a semantic hit needs B's own HNSW mirror, fed by the change stream) until it hits; the
   delay runs from A's answer to B's hit, so it includes one request to B. Beside it, the
   change stream alone: a put through one RedisStore until another one's follower has the
   entry in its HNSW index (in this process, on the same redis-server);
3. throughput of one replica versus two on the same workload (mostly hits of a seeded pool,
   some new questions that go upstream and are stored), clients split over the replicas.
"""

import argparse
import asyncio
import itertools
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from tqdm import tqdm

from gateway.cache.entry import CacheEntry
from gateway.cache.index import VectorIndex
from gateway.cache.redis_changes import StreamPosition
from gateway.cache.redis_store import RedisStore
from loadtest.machine import describe_machine
from loadtest.redis_server import RedisServer
from loadtest.services import Services, free_port, stop

DESCRIPTION = "Redis store vs SQLite: hit latency, cross-replica propagation delay, throughput 1 vs 2 replicas"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"questions": 5, "propagation_samples": 5, "duration": 1, "concurrency": 2}
ROOT = Path(__file__).resolve().parents[2]
TASKS = ("reverse a list", "sort a dictionary by value", "read a file line by line", "merge two dictionaries",
         "remove duplicates from a list", "convert a string to an integer", "check if a file exists",
         "parse a JSON string", "get the current date", "split a string by spaces", "copy a directory",
         "count words in a text", "format a number with commas", "create a virtual environment",
         "send an HTTP request", "flatten a nested list", "join two lists", "round a float to two decimals",
         "read environment variables", "generate a random number", "reverse a string", "sort a list of objects",
         "measure elapsed time", "write a unit test", "handle an exception", "read a CSV file", "zip two lists",
         "remove whitespace from a string", "check if a key exists in a map", "define a constant")
LANGUAGES = ("Python", "JavaScript", "Java", "Go", "Rust", "Ruby", "C#", "Kotlin", "Swift", "PHP", "TypeScript",
             "Scala", "Elixir", "Haskell", "Perl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--questions", type=int, default=100, help="questions stored, then asked again (hit latency)")
    parser.add_argument("--propagation-samples", type=int, default=100, help="store-through-A, hit-through-B rounds")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per throughput run")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections in the throughput runs")
    parser.add_argument("--new-share", type=float, default=0.2, help="share of new questions (misses) in the load")
    parser.add_argument("--upstream-delay-ms", type=float, default=20.0, help="echo upstream time to first token")
    parser.add_argument("--out", default="artifacts/replicas", help="where summary.json goes")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    pairs = question_pairs()
    needed = args.questions + args.propagation_samples + 100
    if needed > len(pairs):
        raise SystemExit(f"at most {len(pairs) - args.propagation_samples - 100} --questions with these samples")
    latency_set = pairs[: args.questions]
    propagation_set = pairs[args.questions : args.questions + args.propagation_samples]
    pool = pairs[args.questions + args.propagation_samples :]
    result: dict = {"machine": describe_machine(),
                    "setup": {k: getattr(args, k) for k in ("questions", "propagation_samples", "duration",
                                                             "concurrency", "new_share", "upstream_delay_ms")}}
    with tempfile.TemporaryDirectory(prefix="semgate-replicas-") as tmp, _Cluster(Path(tmp)) as cluster:
        upstream = cluster.start_upstream(args.upstream_delay_ms)
        sqlite = cluster.start_gateway("sqlite", upstream, str(Path(tmp) / "cache.db"))
        a = cluster.start_gateway("redis-a", upstream, cluster.redis.url)
        b = cluster.start_gateway("redis-b", upstream, cluster.redis.url)
        result["hit_latency"] = asyncio.run(hit_latency({"sqlite": sqlite, "redis": a}, latency_set))
        cluster.stop_gateway("sqlite")  # its CPU is not part of the throughput runs
        result["propagation"] = asyncio.run(propagation(a, b, propagation_set))
        result["stream_propagation"] = asyncio.run(stream_propagation(cluster.redis.url, args.propagation_samples))
        asyncio.run(seed([a], pool, "seeding the load pool"))
        fresh = itertools.count()
        result["throughput"] = {
            "1 replica": asyncio.run(load([a], pool, fresh, args)),
            "2 replicas": asyncio.run(load([a, b], pool, fresh, args)),
        }
    _ratios(result)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


def question_pairs() -> list[tuple[str, str]]:
    """(question as first asked, a paraphrase of it): the paraphrase is a semantic, not exact, hit."""
    return [(f"How do I {task} in {lang}?", f"how can I {task} in {lang}") for task in TASKS for lang in LANGUAGES]


def _body(question: str, no_store: bool = False) -> dict:
    body = {"model": "echo-1", "messages": [{"role": "user", "content": question}], "max_tokens": 64}
    if no_store:
        body["semgate"] = {"no_store": True}  # probes must not store answers of their own
    return body


async def _ask(client: httpx.AsyncClient, url: str, question: str, no_store: bool = False) -> tuple[str, float]:
    started = time.perf_counter()
    response = await client.post(f"{url}/v1/chat/completions", json=_body(question, no_store))
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return response.headers.get("x-semgate-cache", "none"), elapsed


async def seed(urls: list[str], pairs: list[tuple[str, str]], desc: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        for i, (question, _) in enumerate(tqdm(pairs, desc=desc, file=sys.stderr, leave=False)):
            await _ask(client, urls[i % len(urls)], question)


async def hit_latency(gateways: dict[str, str], pairs: list[tuple[str, str]]) -> dict:
    """Hits timed on each gateway in turn, question by question, so load drift touches both alike."""
    for label, url in gateways.items():
        await seed([url], pairs, f"storing ({label})")
    times = {label: {"exact_hit": [], "semantic_hit": []} for label in gateways}
    outcomes = {label: {} for label in gateways}
    async with httpx.AsyncClient(timeout=60) as client:
        for question, paraphrase in tqdm(pairs, desc="timing hits", file=sys.stderr, leave=False):
            for tier, text in (("exact_hit", question), ("semantic_hit", paraphrase)):
                for label, url in gateways.items():
                    outcome, seconds = await _ask(client, url, text, no_store=True)
                    outcomes[label][outcome] = outcomes[label].get(outcome, 0) + 1
                    if outcome == "hit":
                        times[label][tier].append(seconds)
    return {label: {**{tier: _percentiles(t) for tier, t in times[label].items()}, "outcomes": outcomes[label]}
            for label in gateways}


async def propagation(a: str, b: str, pairs: list[tuple[str, str]], timeout_s: float = 2.0) -> dict:
    """A paraphrase that never hits B is asked of A too: a miss there is the cache's verdict on the
    pair (guards, verifier), not a change that failed to propagate."""
    delays, polls, not_propagated, not_a_match = [], [], 0, 0
    async with httpx.AsyncClient(timeout=60) as client:
        for question, paraphrase in tqdm(pairs, desc="store via A, hit via B", file=sys.stderr, leave=False):
            await _ask(client, a, question)
            stored_at = time.perf_counter()
            for attempt in itertools.count(1):
                outcome, _ = await _ask(client, b, paraphrase, no_store=True)
                if outcome == "hit":
                    delays.append(time.perf_counter() - stored_at)
                    polls.append(attempt)
                    break
                if time.perf_counter() - stored_at > timeout_s:
                    hit_on_a = (await _ask(client, a, paraphrase, no_store=True))[0] == "hit"
                    not_propagated += hit_on_a
                    not_a_match += not hit_on_a
                    break
    summary = _percentiles(delays)
    summary.update(mean_polls=round(float(np.mean(polls)), 2) if polls else None, not_propagated=not_propagated,
                   paraphrase_not_a_hit_on_a=not_a_match)
    return summary


async def stream_propagation(redis_url: str, samples: int) -> dict:
    """Put through one store until another store's follower has indexed it: the mirror's own delay."""
    writer = await RedisStore.open(redis_url, prefix="semgate-bench")
    follower = await RedisStore.open(redis_url, prefix="semgate-bench")
    index, waiting, done = VectorIndex(), {}, False

    async def follow(position: StreamPosition) -> None:
        while waiting or not done:  # a blocking read is not reliably cancellable: leave on our own
            for change in await follower.read_changes(position, block_ms=50, count=512):
                position = change.position
                if change.entry is not None:
                    e = change.entry
                    index.add(e.namespace, e.category, [(e.id, e.fingerprint, e.embedding)])
                    arrived = waiting.pop(e.id, None)
                    if arrived is not None:
                        arrived.set_result(time.perf_counter())

    task = asyncio.create_task(follow(await follower.change_position()))
    rng, delays = np.random.default_rng(0), []
    for i in tqdm(range(samples), desc="change stream put -> mirror", file=sys.stderr, leave=False):
        vector = rng.standard_normal(384).astype(np.float32)
        entry = CacheEntry(tenant="bench", namespace="bench", category="general", model="m", fingerprint="fp",
                           exact_key=f"k{i}", query_text=f"question {i}", embedding=vector / np.linalg.norm(vector),
                           request={}, response={"choices": []}, expires_at=time.time() + 600, producer_model="m")
        arrived = waiting[entry.id] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        await writer.put(entry)
        delays.append(await asyncio.wait_for(arrived, 10) - started)
    done = True
    await task
    await writer.close()
    await follower.close()
    return _percentiles(delays)


async def load(urls: list[str], pool: list[tuple[str, str]], fresh: itertools.count, args: argparse.Namespace) -> dict:
    rng = random.Random(len(urls))
    latencies, hits, errors = [], 0, 0
    deadline = time.perf_counter() + args.duration
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)

    async def worker(url: str, client: httpx.AsyncClient) -> None:
        nonlocal hits, errors
        while time.perf_counter() < deadline:
            if rng.random() < args.new_share:
                task, lang = rng.choice(TASKS), rng.choice(LANGUAGES)
                question = f"How do I {task} in {lang} for project {next(fresh)}?"
            else:
                question = rng.choice(rng.choice(pool))
            try:
                outcome, seconds = await _ask(client, url, question)
            except httpx.HTTPError:
                errors += 1
                continue
            latencies.append(seconds)
            hits += outcome == "hit"

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        with tqdm(total=args.duration, desc=f"load on {len(urls)} replica(s)", file=sys.stderr, leave=False,
                  bar_format="{desc}: {n:.0f}/{total:.0f} s") as bar:
            ticker = asyncio.create_task(_tick(bar, deadline))
            await asyncio.gather(*(worker(urls[i % len(urls)], client) for i in range(args.concurrency)))
            ticker.cancel()
    elapsed = time.perf_counter() - started
    summary = _percentiles(latencies)
    summary.update(rps=round(len(latencies) / elapsed, 1), hit_rate=round(hits / max(len(latencies), 1), 3),
                   errors=errors)
    return summary


async def _tick(bar: tqdm, deadline: float) -> None:
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.5)
        bar.n = bar.total - max(deadline - time.perf_counter(), 0)
        bar.refresh()


def _percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"count": 0}
    ms = np.asarray(seconds) * 1000
    return {"count": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3), "mean_ms": round(float(ms.mean()), 3)}


def _ratios(result: dict) -> None:
    latency = result["hit_latency"]
    result["ratios"] = {
        f"redis_over_sqlite_{tier}_{p}": round(latency["redis"][tier][p] / latency["sqlite"][tier][p], 3)
        for tier in ("exact_hit", "semantic_hit") for p in ("p50_ms", "p99_ms")
        if latency["redis"][tier]["count"] and latency["sqlite"][tier]["count"]
    }
    one, two = result["throughput"]["1 replica"], result["throughput"]["2 replicas"]
    result["ratios"]["throughput_2_over_1"] = round(two["rps"] / one["rps"], 3) if one["rps"] else None


def format_report(result: dict) -> str:
    lines = [f"machine: {result['machine']}", "",
             "hit latency through HTTP (ms)      SQLite p50/p99      Redis p50/p99   ratio p50"]
    latency = result["hit_latency"]
    for tier in ("exact_hit", "semantic_hit"):
        s, r = latency["sqlite"][tier], latency["redis"][tier]
        if s["count"] and r["count"]:
            lines.append(f"  {tier:<30} {s['p50_ms']:>8.2f} / {s['p99_ms']:<8.2f} "
                         f"{r['p50_ms']:>8.2f} / {r['p99_ms']:<8.2f}  {r['p50_ms'] / s['p50_ms']:.2f}")
    lines.append(f"  outcomes: sqlite {latency['sqlite']['outcomes']}, redis {latency['redis']['outcomes']}")
    p, s = result["propagation"], result["stream_propagation"]
    lines.append("\ncross-replica propagation                                   p50 ms    p99 ms   rounds")
    if p["count"]:
        lines.append(f"  answer via A -> paraphrase hit via B (HTTP, 1 B request)  {p['p50_ms']:>7.2f} "
                     f"{p['p99_ms']:>9.2f}   {p['count']}  (mean polls {p['mean_polls']}, "
                     f"not propagated {p['not_propagated']}, not a hit on A either {p['paraphrase_not_a_hit_on_a']})")
    lines.append(f"  change stream: put -> indexed in the other mirror        {s['p50_ms']:>7.2f} {s['p99_ms']:>9.2f}"
                 f"   {s['count']}")
    one, two = result["throughput"]["1 replica"], result["throughput"]["2 replicas"]
    lines.append("\nthroughput, same workload      req/s    p50 ms    p99 ms   hit rate")
    for name, t in (("1 replica", one), ("2 replicas", two)):
        lines.append(f"  {name:<26} {t['rps']:>7} {t.get('p50_ms', 0):>9.1f} {t.get('p99_ms', 0):>9.1f}"
                     f"   {t['hit_rate']:.2f}")
    lines.append(f"  ratio 2/1: {result['ratios']['throughput_2_over_1']}")
    return "\n".join(lines)


class _Cluster(Services):
    """The bench's processes: redis-server, the echo upstream and the gateways (each its own process)."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(workdir / "logs")
        self.workdir = workdir
        self.redis = RedisServer(workdir / "redis")
        self.gateways: dict[str, int] = {}

    def __enter__(self) -> "_Cluster":
        self.redis.start()
        return self

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.redis.stop()

    def start_upstream(self, delay_ms: float) -> str:
        port = free_port()
        url = self.start("upstream", ["loadtest.echo_upstream", "--port", str(port), "--model", "echo-1"], port, 60)
        httpx.post(f"{url}/_echo/control", json={"first_token_delay_s": delay_ms / 1000}).raise_for_status()
        return url

    def start_gateway(self, name: str, upstream: str, store: str) -> str:
        port = free_port()
        config = self.workdir / f"{name}.yaml"
        config.write_text(f"listen: 127.0.0.1:{port}\nbackend: {{enabled: false}}\n"
                          f"cache: {{enabled: true, store: '{store}', policies: '{ROOT / 'config/policies.yaml'}'}}\n"
                          f"upstreams: [{{name: echo, base_url: '{upstream}/v1', models: [echo-1]}}]\n")
        print(f"starting gateway {name} ...", file=sys.stderr, flush=True)
        url = self.start(name, ["gateway", "gateway", "--config", str(config), "--log-level", "warning"], port, 300,
                         cwd=ROOT)
        self.gateways[name] = len(self.processes) - 1
        return url

    def stop_gateway(self, name: str) -> None:
        stop(self.processes[self.gateways[name]])
