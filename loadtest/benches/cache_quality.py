"""`semgate bench cache-quality`: does the cache answer paraphrases, and only paraphrases?

Through the real cache code path (embedder, exact tier, HNSW index, fingerprint, guards,
verifier, per-category policies): store each pair's `a` with its own answer, then look up
each `b`. A hit is correct when the cached question is the query's own text or linked to it
by duplicate labels (transitively, across pairs). The same pairs are judged the same way for
the raw baseline (MiniLM top-1 cosine, nothing else) and GPTCache (same embedding model).
"""

import argparse
import asyncio
import dataclasses
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gateway.cache.embedder import Embedder, EmbeddingModel, encode_cached
from gateway.cache.evaluation import DuplicateLinks, Outcome, Pair, conversation_text, summarise
from gateway.cache.semantic_cache import SemanticCache
from gateway.cache.sqlite_store import SqliteStore
from gateway.cache.text import normalise
from gateway.cache.verifier import WEIGHTS_PATH as FEATURE_WEIGHTS
from gateway.cache.verifier_stack import SHIPPED_VERIFIER, VERIFIERS, load_verifier
from gateway.cache.verifier_features import CONTEXT_FLOOR
from loadtest import smoke
from loadtest.benches import _cache_baselines as baselines
from loadtest.benches.classify import EVALDATA
from loadtest.benches._cache_quality_suite import (SUITE_FILES, by_kind, format_headline, format_kinds, headline,
                                                 headline_runs, read_source)
from loadtest.benches.policy_thresholds import (CLINC_PER_INTENT, CLINC_TARGET, SIMILARITY_GRID, TOP_K, VERIFIER_GRID,
                                                Lookups, best_safe_pair, clinc_lookups, clinc_safe_pairs)
from loadtest.workloads.cache_suite import SUITE_DIR
from policies.classifier import CategoryClassifier
from policies.loader import load_policy_file
from policies.schema import CategoryPolicy, PolicySet

DESCRIPTION = "semantic cache quality on question pairs: semgate vs raw MiniLM top-1 vs GPTCache"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"limit": 100}
SHIPPED_POLICIES = Path("config/policies.yaml")
TENANT = "bench"
MAX_FALSE_HITS_SHOWN = 200
VERIFIER_SWEEP = [round(x, 2) for x in np.arange(0.05, 1.0, 0.05)]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--pairs", help='JSONL lines {"a", "b", "duplicate"} (+ "category", "context_a", "context_b")')
    source.add_argument("--qqp", help="the QQP pairs file (jsonl.gz with a split field); see --split")
    source.add_argument("--suite", choices=SUITE_FILES, help="semgate's own suite (loadtest/data/cache_suite): "
                                                             "single-turn or multi-turn pairs; see --split")
    source.add_argument("--all", action="store_true", help="the three headline runs: the suite's held-out single- "
                                                           "and multi-turn halves and QQP test (see --qqp-file)")
    parser.add_argument("--split", help="split to use: test|dev for --qqp (default test), tune|heldout|fresh for "
                                        "--suite (default heldout; fresh is single-turn only)")
    parser.add_argument("--domains", help="with --suite: only these comma-separated domains of the split (the "
                                          "tune half's other domains, for a verifier trained on some of them)")
    parser.add_argument("--suite-dir", type=Path, default=SUITE_DIR, help="folder with the suite's JSONL files")
    parser.add_argument("--qqp-file", type=Path, help="QQP pairs for --all (default: qqp_pairs.jsonl.gz in "
                                                      "$SEMGATE_EVALDATA or ../shared/evaldata)")
    parser.add_argument("--limit", type=int, help="use only the first N pairs")
    parser.add_argument("--policies", help=f"policy YAML (default: {SHIPPED_POLICIES} if present, else built-in)")
    parser.add_argument("--no-gptcache", action="store_true", help="skip the GPTCache baseline")
    parser.add_argument("--embedding-cache", help="reuse the question embeddings a previous run saved here "
                                                  "(same texts, same model); saved there when absent (with --all, "
                                                  "one file per set beside it: NAME-<set>.npz)")
    parser.add_argument("--clinc-data", type=Path, default=EVALDATA,
                        help="folder with clinc150.json: the CLINC150 check a single global pair must pass too, "
                             "as the shipped per-category pairs did (skipped when absent)")
    parser.add_argument("--verifier", choices=VERIFIERS, default=SHIPPED_VERIFIER,
                        help=f"the duplicate verifier (default: the shipped one, {SHIPPED_VERIFIER})")
    parser.add_argument("--verifier-weights", type=Path, default=FEATURE_WEIGHTS,
                        help="the feature verifier's weights (default: the shipped ones); another file measures a "
                             "retrained candidate before it replaces them (docs/benchmarks.md)")
    parser.add_argument("--out", default="artifacts/cache-quality", help="where the plot and summary go")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--dump", type=Path, help="write one JSON line per lookup here (kind, query, best candidate, "
                                                  "similarity, probability, outcome): to read a tune half's misses")
    parser.add_argument("--no-progress", action="store_true")


def run(args: argparse.Namespace) -> int:
    if args.all:
        return run_all(args)
    pairs = read_source(args)
    if not pairs:
        print("no pairs to evaluate", file=sys.stderr)
        return 2
    result = measure(pairs, args)
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


def run_all(args: argparse.Namespace) -> int:
    """The held-out single- and multi-turn halves of the suite and QQP test, one after the other."""
    results = {}
    for name, settings in headline_runs(args):
        print(f"cache-quality: {name}", file=sys.stderr)
        results[name] = measure(read_source(settings), settings)
    rows = headline(results)
    if args.json:
        print(json.dumps({"headline": rows, "runs": results}, indent=2))
    else:
        print("\n\n".join([*(f"== {name}\n" + format_report(r) for name, r in results.items()),
                            "\n".join(format_headline(rows))]))
    return 0


def measure(pairs: list[Pair], args: argparse.Namespace) -> dict:
    """Evaluate, then write the plot and summary.json into args.out."""
    result = asyncio.run(evaluate(pairs, args))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result["plot"] = str(baselines.plot_precision_recall(result, out / "precision_recall.png"))
    (out / "summary.json").write_text(json.dumps(result, indent=2))
    return result


async def evaluate(pairs: list[Pair], args: argparse.Namespace) -> dict:
    progress = not args.no_progress
    policies = _policies(args.policies)
    model = EmbeddingModel()
    embedder = Embedder(model, max_batch=64)
    # Labels speak about whole conversations: judge (and run the raw baseline) on the question with its context.
    stored = _unique_stored(pairs)
    flat, flat_stored = _conversations(pairs), _conversations(stored)
    texts = sorted({p.a for p in pairs} | {p.b for p in pairs} | {p.a for p in flat} | {p.b for p in flat})
    cache = Path(args.embedding_cache) if args.embedding_cache else None
    vectors = dict(zip(texts, encode_cached(model, texts, cache, progress)))
    # The raw baseline embeds each text as written: semgate's canonical form (gateway/cache/canonical.py) is its own.
    raw_cache = cache.with_name(f"{cache.stem}_raw{cache.suffix}") if cache is not None else None
    raw_vectors = dict(zip(texts, encode_cached(model.raw(), texts, raw_cache, progress)))
    classifier = CategoryClassifier.build(policies, lambda batch: model.encode(list(batch)))
    verifier = load_verifier(args.verifier, args.verifier_weights)
    clinc_safe = _clinc_safe_pairs(args, model, classifier, policies, verifier)

    def category(text: str, given: str | None) -> str:
        return given or classifier.classify(text, vectors[text]).category

    links = DuplicateLinks(flat)
    answerable_keys = {(links.group(p.a), _context_key(())) for p in flat_stored}
    with tempfile.TemporaryDirectory(prefix="semgate-quality-") as tmp:
        cache = SemanticCache(await SqliteStore.open(Path(tmp) / "cache.db"), embedder, verifier,
                              maintenance_interval_s=0)
        await cache.start(progress=False)
        # The quota is raised to hold every question: eviction would measure the quota, not the matching.
        quota = len(stored)
        started = time.perf_counter()
        for p in tqdm(stored, desc="storing a", file=sys.stderr, disable=not progress):
            policy = _bench_policy(policies.get(category(p.a, p.category)), quota)
            await cache.insert(TENANT, policy, _chat(p.a, p.context_a), _answer(p.a), "bench-model",
                               query_embedding=vectors[p.a])
        insert_s = time.perf_counter() - started
        outcomes, sweep_points, probes, wrong, dumped = [], [], [], [], []
        missed: Counter[str] = Counter()  # why answerable lookups missed: below_threshold, guard, verifier...
        started = time.perf_counter()
        lookups = list(zip(pairs, flat))
        for p, conversation in tqdm(lookups, desc="looking up b", file=sys.stderr, disable=not progress):
            name = category(p.b, p.category)
            policy = _bench_policy(policies.get(name), quota)
            result = await cache.lookup(TENANT, policy, _chat(p.b, p.context_b), query_embedding=vectors[p.b])
            answerable = (links.group(conversation.b), _context_key(())) in answerable_keys
            probes.append((name, answerable, await _probe(cache, policy, p, vectors[p.b], links)))
            best = result.best
            best_correct = best is not None and _correct(links, p, best.entry.query_text, best.entry.request)
            outcomes.append(Outcome(name, answerable, result.hit, result.hit and best_correct))
            if answerable and not result.hit:
                missed[best.rejected_by or result.reason if best is not None else result.reason] += 1
            if result.hit and not best_correct and len(wrong) < MAX_FALSE_HITS_SHOWN:
                wrong.append({"kind": p.kind, "category": name, "query": p.b, "cached": best.entry.query_text,
                              "similarity": best.similarity, "probability": best.probability,
                              "reason": result.reason})
            if getattr(args, "dump", None) is not None:
                dumped.append({"kind": p.kind, "category": name, "query": p.b, "answerable": answerable,
                               "hit": result.hit, "correct": result.hit and best_correct, "reason": result.reason,
                               "cached": best.entry.query_text if best else None,
                               "best_correct": best_correct, "similarity": best.similarity if best else None,
                               "probability": best.probability if best else None,
                               "rejected_by": best.rejected_by if best else None})
            eligible = best is not None and best.rejected_by is None and best.similarity >= policy.similarity_threshold
            score = 1.0 if result.reason == "exact" else (best.probability if eligible and best.probability is not None
                                                           else (best.similarity if eligible and not policy.verify else -1.0))
            sweep_points.append((name, answerable, score, best_correct))
        lookup_s = time.perf_counter() - started  # includes the probe lookups
        if dumped:
            args.dump.parent.mkdir(parents=True, exist_ok=True)
            args.dump.write_text("".join(json.dumps(row) + "\n" for row in dumped))
        await cache.close()
    await embedder.close()
    categories = [o.category for o in outcomes]
    semgate = {"overall": summarise(outcomes), "by_category": baselines.by_category(outcomes),
               "sweep": _verifier_sweep(sweep_points),
               "setup": {"policies": policies.source, "stored_questions": len(stored), "quota_raised_to": quota,
                         "insert_ms_mean": 1000 * insert_s / max(len(stored), 1),
                         "lookup_ms_mean": 1000 * lookup_s / max(len(pairs), 1)}}
    raw = baselines.raw_minilm(flat, flat_stored, raw_vectors, links, answerable_keys, categories)
    raw_outcomes = raw.pop("_outcomes")
    same = baselines.at_same_false_hit_rate(raw["sweep"], semgate["overall"]["false_hit_rate"])
    if same is not None:  # the raw baseline at the strictest false-hit rate semgate reached
        raw["overall"] = same
        raw["by_category"] = baselines.by_category(raw_outcomes(same["threshold"]))
        if any(p.kind for p in pairs):
            raw["by_kind"] = by_kind(pairs, raw_outcomes(same["threshold"]))
    if any(p.kind for p in pairs):
        semgate["by_kind"] = by_kind(pairs, outcomes)
    semgate["per_category_vs_global"] = _per_category_vs_global(probes, policies, semgate["overall"], clinc_safe)
    semgate["false_hits"] = wrong  # what went wrong, to read (the first MAX_FALSE_HITS_SHOWN)
    semgate["answerable_missed_by"] = dict(missed.most_common())
    result = {"pairs": len(pairs), "semgate": semgate, "baselines": {"raw_minilm": raw},
              "recall_ratio_vs_raw_at_same_false_hit_rate":
                  semgate["overall"]["recall"] / same["recall"] if same and same["recall"] else None}
    # The same comparison without the lookups whose own text is stored (both answer those, always rightly).
    exact = sum(1 for _, _, (is_exact, _) in probes if is_exact)
    if same is not None:
        semantic = lambda m: (m["correct_hits"] - exact) / max(m["answerable"] - exact, 1)  # noqa: E731
        result["semantic_lookups_only"] = {
            "exact_lookups": exact, "semgate_recall": semantic(semgate["overall"]), "raw_minilm_recall": semantic(same),
            "recall_ratio": semantic(semgate["overall"]) / semantic(same) if semantic(same) else None}
    if not args.no_gptcache:
        # As users run it (its 1,000-entry default), and with room for every stored question.
        result["baselines"]["gptcache"] = baselines.gptcache(flat, flat_stored, raw_vectors, links, answerable_keys,
                                                             categories, progress)
        if "skipped" not in result["baselines"]["gptcache"] and len(stored) > 1000:
            result["baselines"]["gptcache_max_size_raised"] = baselines.gptcache(
                flat, flat_stored, raw_vectors, links, answerable_keys, categories, progress, max_size=len(stored) + 16)
    return result


async def _probe(cache: SemanticCache, policy: CategoryPolicy, pair: Pair, vector: np.ndarray,
                 links: DuplicateLinks) -> tuple[bool, list[tuple[float, float, bool, bool]]]:
    """The same lookup with the similarity floor at the verifier's context floor: every candidate any
    threshold pair could accept, as (similarity, probability or -1, guard passed, correct)."""
    probe = dataclasses.replace(policy, similarity_threshold=CONTEXT_FLOOR, verifier_threshold=2.0)
    result = await cache.lookup(TENANT, probe, _chat(pair.b, pair.context_b), query_embedding=vector)
    if result.reason == "exact":
        return True, []
    return False, [(c.similarity, -1.0 if c.probability is None else c.probability, c.rejected_by is None,
                    _correct(links, pair, c.entry.query_text, c.entry.request)) for c in result.candidates]


def _clinc_safe_pairs(args, model, classifier, policies, verifier) -> np.ndarray | None:
    """The single (similarity, verifier) pairs that pass the CLINC150 check policy-thresholds puts the
    per-category pairs through, with this policy's classifier and verifier; None without the data."""
    if not (Path(args.clinc_data) / "clinc150.json").exists():
        return None
    settings = argparse.Namespace(data=Path(args.clinc_data), clinc_per_intent=smoke.size(CLINC_PER_INTENT, 2),
                                  clinc_queries=50 if smoke.enabled() else None,
                                  top_k=TOP_K, out=Path(args.out))
    return clinc_safe_pairs(clinc_lookups(settings, model, classifier, policies, verifier), CLINC_TARGET, True)


def _per_category_vs_global(probes: list, policies: PolicySet, shipped: dict, clinc_safe: np.ndarray | None) -> dict:
    """Issue #4: the shipped per-category thresholds beside the best single global (similarity, verifier)
    pair chosen on this same data, at no higher false-hit rate than the shipped policy's; and beside the
    best such pair among those that also pass the CLINC150 check the per-category pairs passed."""
    names = sorted({name for name, _, _ in probes})
    tables, support = {}, {}
    for name in names:
        mine = [(answerable, exact, cands) for n, answerable, (exact, cands) in probes if n == name]
        k = max([len(c) for _, _, c in mine] + [1])
        pad = lambda cands, i, fill: [c[i] for c in cands] + [fill] * (k - len(cands))  # noqa: E731
        group = Lookups(*(np.array([pad(c, i, fill) for _, _, c in mine])
                          for i, fill in ((0, -1.0), (1, -1.0), (3, False), (2, False))),
                        np.array([a for a, _, _ in mine]), np.array([e for _, e, _ in mine]))
        tables[name], support[name] = group.table(), (int(group.answerable.sum()), group.should_miss)
    answerable = max(sum(a for a, _ in support.values()), 1)
    should_miss = max(sum(s for _, s in support.values()), 1)
    index = lambda grid, value: int(np.argmin(np.abs(grid - value)))  # noqa: E731

    def pooled(pair_of) -> dict:
        right = hits = 0
        for name, table in tables.items():
            s, v = pair_of(name)
            r, h = table[index(SIMILARITY_GRID, s), index(VERIFIER_GRID, v)]
            right, hits = right + int(r), hits + int(h)
        return {"recall": right / answerable, "false_hit_rate": (hits - right) / should_miss, "hits": hits,
                "correct_hits": right}

    def shipped_pair(name: str) -> tuple[float, float]:
        policy = policies.get(name)
        return policy.similarity_threshold, policy.verifier_threshold if policy.verify else 0.0

    per_category = pooled(shipped_pair)
    defaults = policies.defaults
    dev_global = {"similarity_threshold": defaults.similarity_threshold, "verifier_threshold": defaults.verifier_threshold,
                  **pooled(lambda name: (defaults.similarity_threshold, defaults.verifier_threshold))}
    total = sum(tables.values())

    def best_single(allowed: np.ndarray) -> dict | None:
        """The single pair among `allowed` with the most right hits at no higher false-hit rate than shipped."""
        pair = best_safe_pair(total, should_miss, shipped["false_hit_rate"], allowed)
        return None if pair is None else {"similarity_threshold": pair[0], "verifier_threshold": pair[1],
                                          **pooled(lambda name: pair)}

    best_global = best_single(np.ones(total.shape[:2], dtype=bool))
    safe_global = None if clinc_safe is None else best_single(clinc_safe)
    return {"description": "shipped per-category thresholds vs the best single (similarity floor, verifier threshold) "
                           "pair for every category, chosen on this same data at a false-hit rate no higher than the "
                           "shipped policy's (replayed from the candidates of each lookup; guards as shipped)",
            "per_category": per_category, "best_global": best_global,
            # The same, among the single pairs that pass the CLINC150 check the shipped pairs had to pass.
            "best_clinc_safe_global": safe_global,
            "recall_ratio_vs_clinc_safe": per_category["recall"] / safe_global["recall"]
            if safe_global and safe_global["recall"] else None,
            # The policy's `defaults` pair for every category: one global pair measured on dev like the per-category ones.
            "defaults_for_all": dev_global,
            "recall_ratio": per_category["recall"] / best_global["recall"] if best_global and best_global["recall"]
            else None}


def _policies(path: str | None) -> PolicySet:
    if path or SHIPPED_POLICIES.exists():
        return load_policy_file(path or SHIPPED_POLICIES)
    default = CategoryPolicy(name="default")
    return PolicySet(categories=(default,), defaults=default)


def _bench_policy(policy: CategoryPolicy, quota: int) -> CategoryPolicy:
    return dataclasses.replace(policy, max_entries=max(policy.max_entries, quota), ttl_seconds=max(policy.ttl_seconds, 86400.0))


def _unique_stored(pairs: list[Pair]) -> list[Pair]:
    seen, stored = set(), []
    for p in pairs:
        key = (normalise(p.a), _context_key(p.context_a), p.category)
        if key not in seen:
            seen.add(key)
            stored.append(p)
    return stored


def _context_key(context: tuple[dict, ...]) -> str:
    return json.dumps(list(context), sort_keys=True)


def _correct(links: DuplicateLinks, query: Pair, cached_question: str, cached_request: dict) -> bool:
    return links.linked(conversation_text(query.b, query.context_b),
                        conversation_text(cached_question, tuple(cached_request["messages"][:-1])))


def _conversations(pairs: list[Pair]) -> list[Pair]:
    """Each pair with its questions replaced by the whole conversation (the question alone without context)."""
    return [dataclasses.replace(p, a=conversation_text(p.a, p.context_a), b=conversation_text(p.b, p.context_b),
                                context_a=(), context_b=()) for p in pairs]


def _verifier_sweep(points: list[tuple[str, bool, float, bool]]) -> list[dict]:
    """Overall metrics at each verifier threshold (the similarity floor and guards as shipped)."""
    rows = []
    for threshold in VERIFIER_SWEEP:
        outcomes = [Outcome(c, answerable, score >= threshold, score >= threshold and correct)
                    for c, answerable, score, correct in points]
        rows.append({"threshold": threshold, **summarise(outcomes)})
    return rows


def _chat(question: str, context: tuple[dict, ...]) -> dict:
    return {"model": "bench-model", "messages": [*context, {"role": "user", "content": question}]}


def _answer(question: str) -> dict:
    return {"id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "bench-model",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": f"The answer to: {question}"}}]}


def format_report(result: dict) -> str:
    header = f"{'system':<28}{'queries':>9}{'hit_rate':>10}{'precision':>11}{'recall':>9}{'false_hit':>11}"
    lines = [f"cache quality on {result['pairs']} pairs", header]

    def row(name: str, m: dict) -> None:
        lines.append(f"{name:<28}{m['queries']:>9}{m['hit_rate']:>10.3f}{m['precision']:>11.3f}"
                     f"{m['recall']:>9.3f}{m['false_hit_rate']:>11.4f}")

    row("semgate (shipped policy)", result["semgate"]["overall"])
    raw = result["baselines"]["raw_minilm"]
    if "overall" in raw:
        row(f"raw MiniLM @cos {raw['overall']['threshold']:.4f}", raw["overall"])
    if "gptcache" in result["baselines"]:
        g = result["baselines"]["gptcache"]
        row("gptcache (defaults)" if "overall" in g else "gptcache: " + g.get("skipped", "?"), g.get("overall", {
            "queries": 0, "hit_rate": 0, "precision": 0, "recall": 0, "false_hit_rate": 0}))
    if "gptcache_max_size_raised" in result["baselines"]:
        row("gptcache (max_size raised)", result["baselines"]["gptcache_max_size_raised"]["overall"])
    ratio = result.get("recall_ratio_vs_raw_at_same_false_hit_rate")
    lines.append(f"recall ratio semgate / raw MiniLM at the same false-hit rate: "
                 f"{ratio:.2f}x" if ratio is not None
                 else "recall ratio: n/a (raw baseline has no right hits at that false-hit rate)")
    lines += format_kinds(result)
    if result.get("semantic_lookups_only", {}).get("recall_ratio"):
        sem = result["semantic_lookups_only"]
        lines.append(f"  without the {sem['exact_lookups']} lookups whose own text is stored: recall "
                     f"{sem['semgate_recall']:.3f} vs {sem['raw_minilm_recall']:.3f}, {sem['recall_ratio']:.2f}x")
    versus = result["semgate"]["per_category_vs_global"]
    pc, g = versus["per_category"], versus["best_global"]
    lines.append(f"per-category thresholds (shipped): recall {pc['recall']:.3f} at false-hit rate "
                 f"{pc['false_hit_rate']:.4f}; best single global pair on the same data: " + (
                     f"sim {g['similarity_threshold']:.2f} verifier {g['verifier_threshold']:.2f} recall {g['recall']:.3f} "
                     f"at {g['false_hit_rate']:.4f}; ratio {versus['recall_ratio']:.2f}x" if g and versus["recall_ratio"]
                     else "none reaches that false-hit rate"))
    safe = versus["best_clinc_safe_global"]
    if safe is not None:
        lines.append(f"best single pair that also passes the CLINC150 check (sim {safe['similarity_threshold']:.2f}, "
                     f"verifier {safe['verifier_threshold']:.2f}): recall {safe['recall']:.3f} at "
                     f"{safe['false_hit_rate']:.4f}; ratio " + (f"{versus['recall_ratio_vs_clinc_safe']:.2f}x"
                                                                 if versus["recall_ratio_vs_clinc_safe"] else "n/a"))
    d = versus["defaults_for_all"]
    lines.append(f"the policy's defaults pair (sim {d['similarity_threshold']:.2f}, verifier {d['verifier_threshold']:.2f}, "
                 f"measured on dev) for every category: recall {d['recall']:.3f} at {d['false_hit_rate']:.4f}")
    lines.append("per category (semgate):")
    for name, m in result["semgate"]["by_category"].items():
        row(f"  {name}", m)
    lines.append("verifier threshold sweep (semgate):")
    for s in result["semgate"]["sweep"]:
        lines.append(f"  p>={s['threshold']:.2f}  hit_rate {s['hit_rate']:.3f}  precision {s['precision']:.3f}  "
                     f"recall {s['recall']:.3f}  false_hit_rate {s['false_hit_rate']:.4f}")
    lines.append(f"plot: {result['plot']}")
    return "\n".join(lines)
