"""`semgate bench cache-quality` on semgate's own suite: where the pairs come from, tables per kind, --all.

The suite (loadtest/data/cache_suite, see its README) labels every pair with the kind of
paraphrase or trap it is; a table per kind shows which traps the cache falls for and which
paraphrases it answers, next to the raw MiniLM baseline at the same overall false-hit rate.
"""

import argparse
from pathlib import Path

from gateway.cache.evaluation import Outcome, Pair, read_pairs, summarise
from loadtest.workloads.evaldata import evaldata_file

SUITE_FILES = ("single", "multi")
DEFAULT_SPLIT = {"qqp": "test", "suite": "heldout"}
# The three sets the targets are read on, in the order they are reported.
HEADLINE_RUNS = (("suite-single-heldout", "single"), ("suite-multi-heldout", "multi"), ("qqp-test", None))


def read_source(args: argparse.Namespace) -> list[Pair]:
    if args.suite:
        pairs = read_pairs(Path(args.suite_dir) / f"{args.suite}.jsonl", split=args.split or DEFAULT_SPLIT["suite"],
                           limit=args.limit)
        # Some domains of a half only: a verifier trained on the others is measured on these (docs/benchmarks.md).
        domains = set(args.domains.split(",")) if args.domains else None
        return pairs if domains is None else [p for p in pairs if p.domain in domains]
    if args.qqp:
        return read_pairs(args.qqp, split=args.split or DEFAULT_SPLIT["qqp"], limit=args.limit)
    return read_pairs(args.pairs, limit=args.limit)


def headline_runs(args: argparse.Namespace) -> list[tuple[str, argparse.Namespace]]:
    """The settings of each headline run: its own data, output folder and saved embeddings."""
    runs = []
    for name, suite in HEADLINE_RUNS:
        qqp = None if suite else str(args.qqp_file or evaldata_file("qqp_pairs.jsonl.gz"))
        cache = args.embedding_cache and str(Path(args.embedding_cache).with_name(
            f"{Path(args.embedding_cache).stem}-{name}.npz"))
        runs.append((name, argparse.Namespace(**{**vars(args), "all": False, "suite": suite, "qqp": qqp, "pairs": None,
                                                 "split": None, "domains": None, "out": str(Path(args.out) / name),
                                                 "dump": None, "embedding_cache": cache})))
    return runs


def by_kind(pairs: list[Pair], outcomes: list[Outcome]) -> dict:
    """Each kind's lookups judged alone: recall for paraphrase kinds, false-hit rate for trap kinds."""
    kinds = sorted({p.kind or "unlabelled" for p in pairs})
    table = {}
    for kind in kinds:
        mine = [(p, o) for p, o in zip(pairs, outcomes) if (p.kind or "unlabelled") == kind]
        table[kind] = {"should_hit": all(p.duplicate for p, _ in mine), **summarise(o for _, o in mine)}
    return table


def headline(results: dict[str, dict]) -> dict[str, dict]:
    rows = {}
    for name, result in results.items():
        semgate, raw = result["semgate"]["overall"], result["baselines"]["raw_minilm"].get("overall")
        rows[name] = {"pairs": result["pairs"], "false_hit_rate": semgate["false_hit_rate"],
                      "recall": semgate["recall"],
                      "raw_minilm_threshold": raw and raw["threshold"], "raw_minilm_recall": raw and raw["recall"],
                      "raw_minilm_false_hit_rate": raw and raw["false_hit_rate"],
                      "recall_ratio": result["recall_ratio_vs_raw_at_same_false_hit_rate"]}
    return rows


def format_headline(rows: dict[str, dict]) -> list[str]:
    lines = ["headline (semgate with shipped defaults; raw MiniLM top-1 at no higher false-hit rate, same run):",
             f"{'set':<24}{'pairs':>7}{'false_hit':>11}{'recall':>8}{'raw_cos':>9}{'raw_recall':>12}{'ratio':>8}"]
    for name, r in rows.items():
        raw = (f"{'n/a':>9}{'n/a':>12}" if r["raw_minilm_threshold"] is None
               else f"{r['raw_minilm_threshold']:>9.4f}{r['raw_minilm_recall']:>12.3f}")
        ratio = f"{r['recall_ratio']:>7.2f}x" if r["recall_ratio"] is not None else f"{'n/a':>8}"
        lines.append(f"{name:<24}{r['pairs']:>7}{r['false_hit_rate']:>11.4f}{r['recall']:>8.3f}{raw}{ratio}")
    return lines


def format_kinds(result: dict) -> list[str]:
    kinds = result["semgate"].get("by_kind")
    if not kinds:
        return []
    raw = result["baselines"]["raw_minilm"].get("by_kind", {})
    lines = ["per kind (should hit: recall; must miss: false-hit rate; raw = MiniLM at the same false-hit rate):",
             f"  {'kind':<20}{'label':<12}{'lookups':>8}{'hits':>6}{'false':>7}{'semgate':>9}{'raw':>8}"]
    for should_hit in (True, False):
        for kind, m in kinds.items():
            if m["should_hit"] != should_hit:
                continue
            metric = "recall" if should_hit else "false_hit_rate"
            theirs = f"{raw[kind][metric]:>8.3f}" if kind in raw else f"{'n/a':>8}"
            lines.append(f"  {kind:<20}{'should hit' if should_hit else 'must miss':<12}{m['queries']:>8}"
                         f"{m['hits']:>6}{m['false_hits']:>7}{m[metric]:>9.3f}{theirs}")
    return lines

