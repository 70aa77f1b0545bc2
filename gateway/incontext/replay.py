"""`semgate replay`: re-score stored examples offline, prune the harmful ones, report.

For each example (an unexpired answer of a strong model) the small model answers a few
held-out questions: the tenant's other strong-model entries of the same category most similar
to the example, which come with the strong model's stored answer as the reference. Each
question is answered once without examples and once with this example alone; the example's
gain is the mean improvement in token F1 against the reference. Utility moves by
GAIN_TO_UTILITY x gain (atomically, so feedback arriving meanwhile is not lost); an example
whose gain is below --prune-below is pruned: its utility is set under `incontext.min_utility`,
so retrieval no longer offers it (it still answers cache hits).

Safe while the gateway serves: the SQLite store is in WAL mode and every write here is one
short statement; with Redis each update is one atomic script.
"""

import argparse
import asyncio
import json
import re
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import numpy as np
from tqdm import tqdm

from gateway.cache.entry import CacheEntry
from gateway.cache.redis_store import RedisStore
from gateway.cache.sqlite_store import SqliteStore
from gateway.cache.store import DocumentStore
from gateway.config import GatewayConfig
from gateway.incontext import utility
from gateway.incontext.examples import Example, answer_text, request_context, usable
from gateway.incontext.injection import inject
from gateway.incontext.settings import SMALL, STRONG

GAIN_TO_UTILITY = 4.0
DUPLICATE = 0.98  # a probe this close to the example is the same question: not held out
STANDALONE = request_context({"messages": []})  # a chat question with no system prompt and nothing before it


@dataclass
class ExampleScore:
    entry_id: str
    tenant: str
    category: str
    question: str
    probes: int
    gain: float
    utility_before: float
    pruned: bool


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--examples", type=int, default=50, help="examples re-scored in this run, most hit first")
    parser.add_argument("--probes", type=int, default=3, help="held-out questions per example")
    parser.add_argument("--model", help="the small model to replay with (default: the first small one in models:)")
    parser.add_argument("--tenant", help="only this tenant's examples")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--prune-below", type=float, default=0.0, help="prune examples whose gain is below this")
    parser.add_argument("--dry-run", action="store_true", help="score and report, change nothing")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def token_f1(answer: str, reference: str) -> float:
    got, want = _tokens(answer), _tokens(reference)
    if not got or not want:
        return float(got == want)
    common = sum(min(got.count(t), want.count(t)) for t in set(got))
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


class SmallModel:
    """The small model's upstream, asked directly (no gateway, no cache), greedily."""

    def __init__(self, config: GatewayConfig, name: str | None, max_tokens: int) -> None:
        smalls = [m for m in config.models if m.tier == SMALL and (name is None or m.name == name)]
        if not smalls:
            raise SystemExit(
                f"semgate replay: no small model {'named ' + name if name else ''} under models: in {config.source}"
            )
        self.model = smalls[0]
        served = self.model.upstream_model
        upstream = next((u for u in config.upstreams if served in u.models), None) or next(
            (u for u in config.upstreams if not u.models), None
        )
        if upstream is None:
            raise SystemExit(f"semgate replay: no upstream in {config.source} serves {served!r}")
        key = upstream.api_key()
        self.url = f"{upstream.urls[0]}/chat/completions"
        self.headers = {"authorization": f"Bearer {key}"} if key else {}
        self.max_tokens = max_tokens
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(upstream.timeouts.read_s, connect=5))

    async def answer(self, question: str, examples: list[Example]) -> str:
        body = inject({"messages": [{"role": "user", "content": question}]}, examples, mark=True)
        body.update(
            {**self.model.params, "model": self.model.upstream_model, "max_tokens": self.max_tokens, "temperature": 0}
        )
        response = await self.client.post(self.url, json=body, headers=self.headers)
        response.raise_for_status()
        return answer_text(response.json())


async def replay(config: GatewayConfig, args: argparse.Namespace) -> list[ExampleScore]:
    store = await _open_store(config)
    small = SmallModel(config, args.model, args.max_tokens)
    try:
        groups = await _strong_entries(store, config, args.tenant)
        plan = _plan(groups, args.examples, args.probes)
        calls = len({p.id for _, probes in plan for p in probes}) + sum(len(probes) for _, probes in plan)
        baseline: dict[str, float] = {}
        scores = []
        with tqdm(total=calls, desc="replaying examples", unit="call", file=sys.stderr) as progress:
            for example, probes in plan:
                gains = []
                for probe in probes:
                    reference = answer_text(probe.response)
                    if probe.id not in baseline:
                        baseline[probe.id] = token_f1(await small.answer(probe.query_text, []), reference)
                        progress.update()
                    helped = token_f1(await small.answer(probe.query_text, [_as_example(example)]), reference)
                    progress.update()
                    gains.append(helped - baseline[probe.id])
                gain = float(np.mean(gains))
                pruned = gain < args.prune_below
                scores.append(
                    ExampleScore(
                        example.id,
                        example.tenant,
                        example.category,
                        example.query_text,
                        len(probes),
                        gain,
                        example.utility,
                        pruned,
                    )
                )
                if not args.dry_run:
                    await _apply(store, example.id, gain, pruned, config.incontext.min_utility)
        return scores
    finally:
        await small.client.aclose()
        await store.close()


async def _apply(store: DocumentStore, entry_id: str, gain: float, pruned: bool, min_utility: float) -> None:
    if pruned:
        await store.set_utility(entry_id, max(utility.LOW, min_utility - 1.0))
    else:
        await store.add_utility(entry_id, GAIN_TO_UTILITY * gain, utility.LOW, utility.HIGH)


async def _open_store(config: GatewayConfig) -> DocumentStore:
    cache = config.cache
    if cache.store_kind == "redis":
        r = cache.redis
        return await RedisStore.open(
            cache.store_path, prefix=r.prefix, stream_maxlen=r.stream_maxlen, local_entries=0, timeout_s=r.timeout_s
        )
    if not Path(cache.store_path).exists():
        raise SystemExit(f"semgate replay: no cache database at {cache.store_path}")
    return await SqliteStore.open(cache.store_path)


async def _strong_entries(
    store: DocumentStore, config: GatewayConfig, tenant: str | None
) -> dict[tuple[str, str], list[CacheEntry]]:
    strong = {m.name for m in config.models if m.tier == STRONG}
    groups: dict[tuple[str, str], list[CacheEntry]] = defaultdict(list)
    async for entry in store.iter_all():
        # Questions asked alone, as the probes below are asked: their answers are the references.
        if (
            (tenant is None or entry.tenant == tenant)
            and entry.embedding is not None  # an exact-only entry has no neighbours to probe with
            and usable(entry, entry.tenant, STANDALONE, strong, utility.LOW)
        ):
            groups[(entry.tenant, entry.category)].append(entry)
    return groups


def _plan(
    groups: dict[tuple[str, str], list[CacheEntry]], limit: int, probes: int
) -> list[tuple[CacheEntry, list[CacheEntry]]]:
    """(example, its held-out questions) for the most hit examples that have any held-out question."""
    plan: list[tuple[CacheEntry, list[CacheEntry]]] = []
    for entries in groups.values():
        vectors = np.stack([_embedding(e) for e in entries])
        for i, example in enumerate(entries):
            sims = vectors @ _embedding(example)
            order = [j for j in np.argsort(-sims) if j != i and sims[j] < DUPLICATE][:probes]
            if order:
                plan.append((example, [entries[j] for j in order]))
    plan.sort(key=lambda item: (-item[0].hit_count, -item[0].created_at))
    return plan[:limit]


def _as_example(entry: CacheEntry) -> Example:
    return Example(entry.id, entry.query_text, answer_text(entry.response), 1.0, entry.utility, _embedding(entry))


def _embedding(entry: CacheEntry) -> np.ndarray:
    if entry.embedding is None:  # _strong_entries keeps embedded entries only
        raise ValueError(f"cache entry {entry.id} has no embedding")
    return entry.embedding


def run_replay(config: GatewayConfig, args: argparse.Namespace) -> int:
    scores = asyncio.run(replay(config, args))
    pruned = [s for s in scores if s.pruned]
    summary = {
        "examples": len(scores),
        "pruned": len(pruned),
        "mean_gain": float(np.mean([s.gain for s in scores])) if scores else None,
        "helpful": sum(s.gain > 0 for s in scores),
        "dry_run": args.dry_run,
    }
    if args.json:
        print(json.dumps({"summary": summary, "examples": [asdict(s) for s in scores]}, indent=2))
        return 0
    print(f"{'gain':>7}  {'utility':>7}  {'probes':>6}  {'':6}  question")
    for s in sorted(scores, key=lambda s: s.gain):
        print(
            f"{s.gain:+7.3f}  {s.utility_before:+7.2f}  {s.probes:6d}  {'PRUNED' if s.pruned else '':6}  "
            f"{s.question[:70]}"
        )
    mean = f"{summary['mean_gain']:+.3f}" if scores else "-"
    print(
        f"{len(scores)} examples re-scored, {summary['helpful']} helpful, {len(pruned)} pruned, mean gain {mean}"
        + (" (dry run: nothing changed)" if args.dry_run else "")
    )
    return 0
