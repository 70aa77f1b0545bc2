"""`semgate bench cache-latency`: how fast a hit is, and what the index costs at scale.

1. Hit latency with `--entries` stored: QQP duplicate pairs give the questions (each `a`
   stored, its `b` looked up); the rest of the store is filler built from real MiniLM
   embeddings of other QQP questions, mixed pairwise with a little noise so that every filler
   vector is distinct but lies where real questions lie. Measured twice: through the cache
   code path in this process (embedding included), and end to end over HTTP through a
   gateway this bench starts (with the shipped policies and an echo upstream): the `a`s are
   asked over HTTP, the gateway is stopped, the filler is added to its store beside them, and
   the restarted gateway (index rebuilt) is timed on the `b`s. With `--url`, the HTTP lookups
   go to a running gateway instead (its cache is seeded by asking each `a` first).
2. HNSW search alone (no fingerprint filter, no store) at `--hnsw-entries`, with recall@1
   against an exact scan, and the memory the index takes per million entries.
"""

import argparse
import asyncio
import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import numpy as np
import yaml
from tqdm import tqdm

from gateway.cache.embedder import Embedder, EmbeddingModel
from gateway.cache.entry import CacheEntry
from gateway.cache.evaluation import read_pairs
from gateway.cache.fingerprint import request_key
from gateway.cache.index import HnswParams, NamespaceIndex, ef_for
from gateway.cache.reembed import EMBEDDING_META
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.sqlite_store import SqliteStore
from gateway.cache.verifier_stack import load_verifier
from loadtest.benches._latency_baseline import Fp32OnnxModel, SentenceTransformersModel
from loadtest.machine import describe_machine
from loadtest.services import Services, free_port, stop
from policies.schema import CategoryPolicy

DESCRIPTION = "cache hit latency (embedding included) at 100k entries, HNSW search at 1M, memory per 1M entries"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"entries": 200, "hnsw_entries": 500, "queries": 10, "real_texts": 50}
QQP = Path("../shared/evaldata/qqp_pairs.jsonl.gz")
MODEL = "bench-model"
ROOT = Path(__file__).resolve().parents[2]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--entries", type=int, default=100_000, help="entries stored for the hit-latency test")
    parser.add_argument("--hnsw-entries", type=int, default=1_000_000, help="entries in the HNSW-only test")
    parser.add_argument("--queries", type=int, default=1000, help="lookups (and HNSW searches) to time")
    parser.add_argument("--real-texts", type=int, default=1500, help="QQP dev pairs whose questions seed the filler")
    parser.add_argument("--qqp", default=str(QQP), help="QQP pairs file (questions and duplicate pairs)")
    parser.add_argument("--url", help="time HTTP requests to a running gateway at this base URL instead")
    parser.add_argument("--api-key", default="", help="API key for --url")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the interleaved lookups through the earlier embedding paths "
                             "(sentence-transformers, the fp32 ONNX graph)")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP measurement through a gateway of its own")
    parser.add_argument("--out", default="artifacts/cache-latency", help="where summary.json goes")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    progress = not args.no_progress
    pairs = [p for p in read_pairs(args.qqp, split="test") if p.duplicate]
    model = EmbeddingModel()
    others = sorted({t for p in read_pairs(args.qqp, split="dev", limit=args.real_texts) for t in (p.a, p.b)})
    seeds = model.encode(others, progress=progress)
    result = {"machine": describe_machine()}
    if args.url:
        result["http_hits"] = http_hits(args.url, args.api_key, pairs[: args.queries], progress)
    else:
        result["cache_hits"] = asyncio.run(cache_hits(model, pairs, seeds, args.entries, args.queries, progress,
                                                      baseline=not args.no_baseline))
        if not args.no_http:
            result["http_hits"] = http_hits_at_scale(pairs[: min(args.queries, args.entries)], seeds, args.entries,
                                                     progress)
    result["hnsw"] = hnsw_only(seeds, args.hnsw_entries, args.queries, progress)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


def filler_vectors(seeds: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Distinct unit vectors near real question embeddings: a mix of two real ones plus noise."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, seeds.shape[1]), np.float32)
    for start in range(0, count, 65536):
        n = min(65536, count - start)
        a, b = seeds[rng.integers(len(seeds), size=n)], seeds[rng.integers(len(seeds), size=n)]
        mix = rng.uniform(0.55, 0.9, size=(n, 1)).astype(np.float32)
        v = mix * a + (1 - mix) * b + 0.03 * rng.standard_normal((n, seeds.shape[1]), dtype=np.float32)
        out[start : start + n] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


async def cache_hits(model: EmbeddingModel, pairs, seeds: np.ndarray, entries: int, queries: int, progress: bool,
                     baseline: bool = True) -> dict:
    """In-process lookups (embed the query, then search); with `baseline`, each query is also looked up
    through the earlier embedding paths (sentence-transformers, and the fp32 ONNX graph when ours is the
    int8 one), interleaved, so all see the same machine load."""
    policy = CategoryPolicy(name="general", similarity_threshold=0.7, ttl_seconds=86400.0, max_entries=entries * 2)
    chosen = pairs[: min(queries, entries)]
    paths = {model.backend: Embedder(model)}
    if baseline:
        paths["sentence-transformers"] = Embedder(SentenceTransformersModel())
        if model.backend == "onnx":
            paths["onnx-fp32"] = Embedder(Fp32OnnxModel())
    stored_vectors = model.encode([p.a for p in chosen], progress=progress)
    with tempfile.TemporaryDirectory(prefix="semgate-latency-") as tmp:
        store = await SqliteStore.open(Path(tmp) / "cache.db")
        await store.set_meta(EMBEDDING_META, model.identity)  # the filler is this model's vectors: keep them
        filler = filler_vectors(seeds, entries - len(chosen))
        started = time.perf_counter()
        bar = tqdm(total=entries, desc="filling the store", unit="entry", file=sys.stderr, disable=not progress)
        for i, (text, vector) in enumerate([(p.a, v) for p, v in zip(chosen, stored_vectors)]
                                            + [(f"filler question {i}", v) for i, v in enumerate(filler)]):
            await store.put(_entry(policy, text, vector))
            bar.update(1)
        bar.close()
        fill_s = time.perf_counter() - started
        cache = SemanticCache(store, paths[model.backend], load_verifier(), maintenance_interval_s=0)
        started = time.perf_counter()
        await cache.start(progress=progress)
        rebuild_s = time.perf_counter() - started
        timings = {name: {"hit": [], "miss": [], "cpu": [], "embed": [], "search": []} for name in paths}
        reasons = {}
        for p in tqdm(chosen, desc="timing lookups", file=sys.stderr, disable=not progress):
            request = {"model": MODEL, "messages": [{"role": "user", "content": p.b}]}
            for name, embedder in paths.items():
                t = timings[name]
                t0, c0 = time.perf_counter(), time.process_time()
                vector = await embedder.embed(p.b, "bench")
                t1 = time.perf_counter()
                result = await cache.lookup("bench", policy, request, vector)
                t2 = time.perf_counter()
                t["cpu"].append(time.process_time() - c0)
                t["embed"].append(t1 - t0)
                t["search"].append(t2 - t1)
                t["hit" if result.hit else "miss"].append(t2 - t0)
                if name == model.backend:
                    reasons[result.reason] = reasons.get(result.reason, 0) + 1
        store_bytes = sum(f.stat().st_size for f in Path(tmp).glob("cache.db*"))
        await cache.close()
    for embedder in paths.values():
        await embedder.close()
    by_path = {name: {"hit": _percentiles(t["hit"]), "miss": _percentiles(t["miss"]), "cpu": _percentiles(t["cpu"]),
                      "embed": _percentiles(t["embed"]), "search_after_embedding": _percentiles(t["search"])}
               for name, t in timings.items()}
    ours = by_path[model.backend]
    result = {"entries": entries, "lookups": len(chosen), "reasons": reasons, "embedding_backend": model.backend,
              "hit": ours["hit"], "miss": ours["miss"], "cpu_per_lookup": ours["cpu"], "by_embedding_path": by_path,
              "fill_s": fill_s, "index_rebuild_s": rebuild_s, "store_bytes_per_entry": store_bytes / entries,
              "how_built": "QQP test duplicate pairs (a stored, b looked up, b embedded per lookup) + filler entries "
                           "from mixed real MiniLM embeddings of QQP dev questions"}
    result["speedup_vs"] = {name: {
        "hit_p50": before["hit"]["p50_ms"] / ours["hit"]["p50_ms"] if ours["hit"]["count"] else None,
        "cpu_p50": before["cpu"]["p50_ms"] / ours["cpu"]["p50_ms"],
        "embed_p50": before["embed"]["p50_ms"] / ours["embed"]["p50_ms"]} for name, before in by_path.items()
        if name != model.backend}
    return result


def hnsw_only(seeds: np.ndarray, entries: int, queries: int, progress: bool) -> dict:
    params = HnswParams()
    before = _rss_bytes()
    index = NamespaceIndex(params)
    vectors = filler_vectors(seeds, entries, seed=1)
    started = time.perf_counter()
    with tqdm(total=entries, desc="building HNSW", unit="entry", file=sys.stderr, disable=not progress) as bar:
        for start in range(0, entries, 20000):
            chunk = vectors[start : start + 20000]
            index.add([(f"e{start + i}", "fp", v) for i, v in enumerate(chunk)], num_threads=-1)
            bar.update(len(chunk))
    build_s = time.perf_counter() - started
    index_bytes = _rss_bytes() - before - vectors.nbytes  # the source matrix is not part of the index
    rng = np.random.default_rng(2)
    targets = rng.integers(entries, size=queries)
    probes = vectors[targets] + 0.05 * rng.standard_normal((queries, vectors.shape[1]), dtype=np.float32)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    times, found = [], []
    for probe in probes:
        t0 = time.perf_counter()
        neighbours = index.search(probe, None, k=8)
        times.append(time.perf_counter() - t0)
        found.append(neighbours[0].entry_id)
    checked = min(queries, 200)
    exact = [f"e{int(np.argmax(vectors @ probe))}" for probe in probes[:checked]]
    recall = float(np.mean([f == e for f, e in zip(found[:checked], exact)]))
    return {"entries": entries, "params": params.__dict__, "ef": ef_for(params, entries, 8), "build_s": build_s,
            "search": _percentiles(times),
            "recall_at_1": recall, "rss_bytes": index_bytes, "rss_bytes_per_1m": index_bytes * 1_000_000 / entries,
            "graph_bytes_per_1m": index.memory_bytes() * 1_000_000 / max(entries, 1)}


def http_hits(url: str, api_key: str, pairs, progress: bool, seed: bool = True) -> dict:
    """Each b timed once over HTTP, the two clients taking turns: the standard library's http.client
    (keep-alive; the least time of its own, so the figure is the gateway's) and httpx (what a Python
    application typically uses; its own parsing and pooling cost more per request). Not the same b
    through both: the embedder's LRU would answer the second from memory."""
    import httpx

    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    base = url.rstrip("/")
    clients = {"http.client": _StdlibClient(base, headers), "httpx": httpx.Client(base_url=base, headers=headers,
                                                                                timeout=120)}
    hits = {name: [] for name in clients}
    others, reasons = [], {}
    try:
        for p in tqdm(pairs if seed else [], desc="seeding over HTTP", file=sys.stderr, disable=not progress):
            clients["httpx"].post("/v1/chat/completions", json=_chat(p.a)).raise_for_status()
        for i, p in enumerate(tqdm(pairs, desc="timing over HTTP", file=sys.stderr, disable=not progress)):
            name = ("http.client", "httpx")[i % 2]
            t0 = time.perf_counter()
            response = clients[name].post("/v1/chat/completions", json=_chat(p.b))
            elapsed = time.perf_counter() - t0
            status = response.headers.get("x-semgate-cache", "none")
            reasons[status] = reasons.get(status, 0) + 1
            (hits[name] if status == "hit" else others).append(elapsed)
    finally:
        for client in clients.values():
            client.close()
    return {"url": url, "lookups": len(pairs), "x_semgate_cache": reasons, "client": "http.client",
            "hit": _percentiles(hits["http.client"]), "hit_by_client": {n: _percentiles(t) for n, t in hits.items()},
            "other": _percentiles(others)}


class _StdlibClient:
    """POST JSON over one keep-alive http.client connection; the answer's status, headers and body."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self._prefix = parts.path
        self._headers = {"content-type": "application/json", **headers}
        self._connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=120)

    def post(self, path: str, json: dict) -> SimpleNamespace:  # `json=` as httpx spells it
        self._connection.request("POST", self._prefix + path, body=_encoded(json), headers=self._headers)
        response = self._connection.getresponse()
        body = response.read()
        return SimpleNamespace(status_code=response.status, headers={k.lower(): v for k, v in response.getheaders()},
                               content=body)

    def close(self) -> None:
        self._connection.close()


def _encoded(value: dict) -> bytes:
    return json.dumps(value).encode()


def http_hits_at_scale(pairs, seeds: np.ndarray, entries: int, progress: bool) -> dict:
    """Hits over HTTP through a gateway of this bench's own, with `entries` in its store (see the module doc)."""
    import httpx

    with tempfile.TemporaryDirectory(prefix="semgate-latency-http-") as tmp, Services(Path(tmp) / "logs") as services:
        store_path = Path(tmp) / "cache.db"
        port = free_port()
        upstream = services.start("upstream", ["loadtest.echo_upstream", "--port", str(port), "--model", MODEL], port, 60)
        gateway_port = free_port()
        config = Path(tmp) / "gateway.yaml"
        config.write_text(f"listen: 127.0.0.1:{gateway_port}\nbackend: {{enabled: false}}\n"
                          f"cache: {{enabled: true, store: '{store_path}', policies: '{_roomy_policies(tmp, entries)}'}}\n"
                          f"upstreams: [{{name: echo, base_url: '{upstream}/v1', models: [{MODEL}]}}]\n")
        command = ["gateway", "gateway", "--config", str(config), "--log-level", "warning"]
        url = services.start("gateway", command, gateway_port, 300, cwd=ROOT)
        with httpx.Client(base_url=url, timeout=120) as client:
            for p in tqdm(pairs, desc="asking each a over HTTP", file=sys.stderr, disable=not progress):
                client.post("/v1/chat/completions", json=_chat(p.a)).raise_for_status()
        stop(services.processes.pop())
        fill_s = asyncio.run(_add_filler(store_path, filler_vectors(seeds, max(entries - len(pairs), 0)), progress))
        started = time.perf_counter()
        url = services.start("gateway", command, gateway_port, 1800, cwd=ROOT)
        restart_s = time.perf_counter() - started
        result = http_hits(url, "", pairs, progress, seed=False)
    return {**result, "entries": entries, "filler_s": fill_s, "restart_with_rebuild_s": restart_s,
            "how_built": "gateway with the shipped policies (max_entries raised to hold every entry) and an echo "
                         "upstream; the a's asked over HTTP, then filler "
                         "entries (copies of their tenant, category and fingerprint, mixed real MiniLM vectors) added "
                         "to its SQLite store, gateway restarted (index rebuilt), each b timed over HTTP"}


def _roomy_policies(folder: str, entries: int) -> Path:
    """The shipped policies with room for every entry: their per-category `max_entries` (2,000-50,000) would
    evict the oldest entries, the questions asked first, once the filler is added, and the lookups would
    time misses instead of hits. Only capacity changes; thresholds, guards and verifier are the shipped ones."""
    policies = yaml.safe_load((ROOT / "config/policies.yaml").read_text())
    for section in [policies.get("defaults", {}), *policies.get("categories", [])]:
        if "max_entries" in section:
            section["max_entries"] = max(int(section["max_entries"]), 2 * entries)
    path = Path(folder) / "policies.yaml"
    path.write_text(yaml.safe_dump(policies, sort_keys=False))
    return path


async def _add_filler(store_path: Path, vectors: np.ndarray, progress: bool) -> float:
    """Entries beside the ones the gateway stored, like them in all but question and vector."""
    store = await SqliteStore.open(store_path)
    try:
        models = [e async for e in store.iter_all()]
        started, rng = time.perf_counter(), np.random.default_rng(3)
        for i, vector in enumerate(tqdm(vectors, desc="adding filler entries", unit="entry", file=sys.stderr,
                                        disable=not progress)):
            like = models[int(rng.integers(len(models)))]
            text = f"filler question {i}"
            request = {**like.request, "messages": [{"role": "user", "content": text}]}
            await store.put(CacheEntry(tenant=like.tenant, namespace=like.namespace, category=like.category,
                                       model=like.model, fingerprint=like.fingerprint,
                                       exact_key=request_key(request).exact_key, query_text=text, embedding=vector,
                                       request=request, response=like.response, expires_at=like.expires_at,
                                       producer_model=like.producer_model))
        return time.perf_counter() - started
    finally:
        await store.close()


def _chat(question: str) -> dict:
    return {"model": MODEL, "messages": [{"role": "user", "content": question}], "max_tokens": 32}


def _entry(policy: CategoryPolicy, text: str, vector: np.ndarray) -> CacheEntry:
    request = {"model": MODEL, "messages": [{"role": "user", "content": text}]}
    key = request_key(request)
    response = {"id": "chatcmpl-x", "object": "chat.completion", "created": 0, "model": MODEL,
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}]}
    return CacheEntry(tenant="bench", namespace="bench", category=policy.name, model=MODEL, fingerprint=key.fingerprint,
                      exact_key=key.exact_key, query_text=text, embedding=vector, request=request, response=response,
                      expires_at=time.time() + policy.ttl_seconds, producer_model=MODEL)


def _percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"count": 0}
    ms = np.asarray(seconds) * 1000
    return {"count": len(ms), "p50_ms": float(np.percentile(ms, 50)), "p90_ms": float(np.percentile(ms, 90)),
            "p99_ms": float(np.percentile(ms, 99)), "mean_ms": float(ms.mean())}


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def format_report(result: dict) -> str:
    lines = [f"machine: {result['machine']}"]
    for name in ("cache_hits", "http_hits"):
        if name in result:
            r = result[name]
            hit = r["hit"]
            lines.append(f"{name}: {r.get('entries', '-')} entries, {r['lookups']} lookups, outcomes {r.get('reasons') or r.get('x_semgate_cache')}")
            if hit["count"]:
                lines.append(f"  hit latency p50 {hit['p50_ms']:.2f} ms  p90 {hit['p90_ms']:.2f} ms  "
                             f"p99 {hit['p99_ms']:.2f} ms  (target p50 < 10 ms)"
                             + (f", client {r['client']}" if "client" in r else ""))
            for client, t in r.get("hit_by_client", {}).items():
                if t["count"]:
                    lines.append(f"  client {client}: {t['count']} hits, p50 {t['p50_ms']:.2f} ms  "
                                 f"p99 {t['p99_ms']:.2f} ms")
            for path, t in r.get("by_embedding_path", {}).items():
                lines.append(f"  {path}: hit p50 {t['hit'].get('p50_ms', float('nan')):.2f} ms, CPU per lookup p50 "
                             f"{t['cpu']['p50_ms']:.2f} ms, embedding p50 {t['embed']['p50_ms']:.2f} ms, "
                             f"search after it p50 {t['search_after_embedding']['p50_ms']:.2f} ms")
            for path, x in r.get("speedup_vs", {}).items():
                lines.append(f"  vs {path}, same run: hit p50 {x['hit_p50'] or float('nan'):.2f}x, "
                             f"CPU {x['cpu_p50']:.2f}x, embedding {x['embed_p50']:.2f}x lower")
    h = result["hnsw"]
    lines.append(f"hnsw: {h['entries']} entries built in {h['build_s']:.0f} s; search p50 {h['search']['p50_ms']:.3f} ms"
                 f"  p99 {h['search']['p99_ms']:.3f} ms (target p50 < 1 ms); recall@1 {h['recall_at_1']:.3f} at ef {h.get('ef')}")
    # A small index grows the RSS by less than the allocator gives back meanwhile: no figure then.
    rss = f"{h['rss_bytes_per_1m'] / 2**30:.2f} GiB RSS" if h["rss_bytes"] > 0 else "RSS growth too small to measure"
    lines.append(f"  memory per 1M entries: {rss}; the HNSW graph alone {h['graph_bytes_per_1m'] / 2**30:.2f} GiB")
    return "\n".join(lines)
