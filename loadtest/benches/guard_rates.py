"""How often each guard vetoes a true paraphrase, and how often a pair that must not share an answer.

On Quora Question Pairs (the `dev` split by default): for each guard alone, the share of duplicate
pairs it rejects (false rejections: answers the cache could have served) and the share of
non-duplicate pairs it rejects (of those, some differ in what the guard checks; the rest the
verifier has to catch). The same with every guard on, as the shipped policies run them.
"""

import argparse
import dataclasses
import json
from pathlib import Path

from tqdm import tqdm

from gateway.cache.guards import extract_facts, rejection
from loadtest.workloads.evaldata import evaldata_file
from loadtest.workloads.qqp_paraphrase import read_pairs
from policies.schema import GuardPolicy

DESCRIPTION = "guards on QQP pairs: share of duplicates (false rejections) and non-duplicates each guard vetoes"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"limit": 200}
GUARDS = tuple(f.name for f in dataclasses.fields(GuardPolicy))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pairs", type=Path, help="JSON lines of {a, b, duplicate} instead of QQP")
    parser.add_argument("--split", default="dev", help="QQP split (default dev; never tune on test)")
    parser.add_argument("--limit", type=int, default=20_000, help="pairs read from the split")
    parser.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    if args.pairs:
        rows = [json.loads(line) for line in args.pairs.read_text().splitlines() if line.strip()]
        pairs = [(r["a"], r["b"], bool(r["duplicate"])) for r in rows[: args.limit]]
    else:
        pairs = read_pairs(evaldata_file("qqp_pairs.jsonl.gz"), args.split, args.limit)
    alone = {name: GuardPolicy(**{g: g == name for g in GUARDS}) for name in GUARDS}
    counts = {name: {True: 0, False: 0} for name in (*GUARDS, "all")}
    totals = {True: 0, False: 0}
    for a, b, duplicate in tqdm(pairs, desc="pairs", disable=args.json):
        fa, fb = extract_facts(a), extract_facts(b)
        totals[duplicate] += 1
        for name, switches in alone.items():
            counts[name][duplicate] += rejection(fa, fb, switches) is not None
        counts["all"][duplicate] += rejection(fa, fb, GuardPolicy()) is not None
    rows = {name: {"duplicates_rejected": c[True] / max(totals[True], 1),
                   "non_duplicates_rejected": c[False] / max(totals[False], 1)} for name, c in counts.items()}
    report = {"split": str(args.pairs) if args.pairs else args.split, "duplicates": totals[True], "non_duplicates": totals[False], "guards": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{report['split']}: {totals[True]} duplicate pairs, {totals[False]} non-duplicate pairs")
    print(f"{'guard':10s} {'duplicates rejected':>20s} {'non-duplicates rejected':>24s}")
    for name, row in rows.items():
        print(f"{name:10s} {row['duplicates_rejected']:20.2%} {row['non_duplicates_rejected']:24.2%}")
    return 0
