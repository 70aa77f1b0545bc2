"""Measures the per-category thresholds config/policies.yaml ships, and the best single global pair.

It replays the cache's decision on QQP `dev` as the cache-quality bench does on `test`: each pair's
`a` is stored under the category the policy's classifier gives it, and each `b` (by default only
those whose duplicate group the verifier's training held out, so its probabilities are out of
sample; exact copies excluded, the exact tier answers those) looks up its top-k neighbours in its
own category, drops those under the similarity threshold or tripping a guard, and hits when the
best verifier probability reaches the verifier threshold. A hit is right when QQP's duplicate labels link the two questions
(transitively), as in the cache-quality bench.

Per category, the similarity threshold is the floor that keeps --keep of the right answers (it only
preselects for the verifier); the verifier thresholds, one per category, together maximise recall
at a pooled false-hit rate of --target (a Lagrangian sweep over the categories). --adaptive-keep and
--adaptive-target give the `adaptive` floors. Categories with too few answerable lookups share the
best single verifier threshold. CLINC150 then checks every category where QQP is thin: looking its
`test` utterances up among `train` ones, a hit on another intent is certainly wrong, and the
thresholds are raised until such hits stay within --target.
"""

import argparse
import gzip
import hashlib
import json
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gateway.cache.evaluation import DuplicateLinks, Pair
from gateway.cache.guards import rejection
from gateway.cache.text import normalise
from gateway.cache.verifier import WEIGHTS_PATH, Verifier
from gateway.cache.verifier_features import view
from loadtest.benches.classify import EVALDATA, embed_texts, load_minilm
from policies.classifier import CategoryClassifier
from policies.loader import load_policy_file
from policies.schema import PolicySet

DESCRIPTION = "per-category similarity + verifier thresholds from QQP dev (checked on CLINC150) vs one global pair"
SIMILARITY_GRID = np.round(np.arange(0.50, 0.995, 0.01), 2)
VERIFIER_GRID = np.round(np.arange(0.0, 1.0, 0.01), 2)
LAMBDAS = np.geomspace(0.05, 500, 160)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, default=Path("config/policies.yaml"))
    parser.add_argument("--data", type=Path, default=EVALDATA)
    parser.add_argument("--pairs", type=int, default=None, help="sample this many QQP dev pairs (default: all)")
    parser.add_argument("--world-size", type=int, default=20000, help="pairs stored together (a QQP test split holds 20k)")
    parser.add_argument("--all-queries", action="store_true",
                        help="also look up questions whose duplicate group trained the verifier (in-sample for it)")
    parser.add_argument("--embeddings-cache", type=Path, default=Path("artifacts/verifier/dev_embeddings.npz"),
                        help="dev embeddings saved by `python -m gateway.cache.train_verifier` (used when it matches)")
    parser.add_argument("--verifier", type=Path, default=WEIGHTS_PATH, help="verifier weights (absent: cosine only)")
    parser.add_argument("--top-k", type=int, default=8, help="neighbours a lookup considers (the cache's default)")
    parser.add_argument("--target", type=float, default=0.05, help="pooled false-hit rate for the thresholds")
    parser.add_argument("--adaptive-target", type=float, default=0.10, help="pooled false-hit rate for the adaptive floors")
    parser.add_argument("--keep", type=float, default=0.98, help="share of right answers the similarity threshold keeps")
    parser.add_argument("--adaptive-keep", type=float, default=0.995, help="the same for adaptive.min_similarity")
    parser.add_argument("--min-answerable", type=int, default=40, help="fewer answerable lookups: the category takes the global pair")
    parser.add_argument("--clinc-per-intent", type=int, default=20, help="CLINC150 train utterances stored per intent")
    parser.add_argument("--clinc-queries", type=int, default=None, help="look up only the first N CLINC150 test utterances")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("artifacts/policy_thresholds"))
    parser.add_argument("--json", action="store_true")


@dataclass
class Lookups:
    """Top-k candidates of each lookup in one category: (lookups, k) arrays, padded with similarity -1."""

    similarity: np.ndarray
    probability: np.ndarray
    correct: np.ndarray
    guard_ok: np.ndarray
    answerable: np.ndarray  # per lookup: a right answer is stored somewhere (the recall denominator)

    def counts(self, similarity_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(right hits, hits) for every verifier threshold of VERIFIER_GRID."""
        eligible = (self.similarity >= similarity_threshold) & self.guard_ok
        scores = np.where(eligible, self.probability, -1.0)
        best = scores.argmax(axis=1)
        rows = np.arange(len(best))
        best_score, best_correct = scores[rows, best], self.correct[rows, best]
        hits = best_score[None, :] >= VERIFIER_GRID[:, None]
        return (hits & best_correct[None, :]).sum(axis=1), hits.sum(axis=1)

    def table(self) -> np.ndarray:
        """(similarity grid, verifier grid, 2): right hits and hits at each threshold pair."""
        return np.stack([np.stack(self.counts(s), axis=-1) for s in SIMILARITY_GRID])


def run(args: argparse.Namespace) -> int:
    policies = load_policy_file(args.policy)
    model = load_minilm()
    classifier = CategoryClassifier.build(policies, lambda texts: embed_texts(model, texts, "embed examples"))
    verifier = Verifier.load(args.verifier) if args.verifier.exists() else None
    qqp = _qqp_lookups(args, model, classifier, policies, verifier)
    clinc = _clinc_lookups(args, model, classifier, policies, verifier)
    tables = {name: group.table() for name, group in qqp.items()}
    answerable = {name: int(group.answerable.sum()) for name, group in qqp.items()}
    floors = {name: _floor(group, args.keep) for name, group in qqp.items()}
    loose_floors = {name: _floor(group, args.adaptive_keep) for name, group in qqp.items()}
    chosen = _choose(tables, answerable, floors, args.target, args.min_answerable)
    loose = _choose(tables, answerable, loose_floors, args.adaptive_target, args.min_answerable)
    rows = {}
    for category in policies.categories:
        name = category.name
        measured = chosen.get(name, (floors.get(name, SIMILARITY_GRID[0]), chosen["*global*"][1]))
        pair = _raise_until_clinc_agrees(clinc.get(name), measured, args.target, verifier is not None)
        adaptive = loose.get(name, (loose_floors.get(name, SIMILARITY_GRID[0]), loose["*global*"][1]))
        rows[name] = {
            "qqp_lookups": 0 if name not in qqp else len(qqp[name].answerable), "qqp_answerable": answerable.get(name, 0),
            "verifier_from": "qqp" if name in chosen and answerable.get(name, 0) >= args.min_answerable else "global",
            "similarity_threshold": pair[0], "verifier_threshold": pair[1], "raised_by_clinc": pair != measured,
            **_category_outcome(tables.get(name), answerable.get(name, 0), pair),
            "clinc_wrong_intent_hits": _wrong_share(clinc.get(name), pair),
            "adaptive_min_similarity": min(adaptive[0], pair[0]), "adaptive_min_verifier": min(adaptive[1], pair[1]),
            "shipped": [category.similarity_threshold, category.verifier_threshold if category.verify else 0.0],
            "shipped_adaptive": [category.adaptive.min_similarity, category.adaptive.min_verifier],
        }
    result = {
        "setup": {"policy": str(args.policy), "qqp_pairs": args.pairs, "top_k": args.top_k,
                  "verifier": str(args.verifier) if verifier is not None else None,
                  "target_false_hit": args.target, "adaptive_target_false_hit": args.adaptive_target, "seed": args.seed},
        "categories": rows,
        "qqp_dev_measured": _compare(tables, answerable,
                                     {n: (r["similarity_threshold"], r["verifier_threshold"]) for n, r in rows.items()}),
        "qqp_dev_shipped": _compare(tables, answerable, {n: tuple(r["shipped"]) for n, r in rows.items()}),
    }
    result["plot"] = str(_plot(tables, answerable, rows, result["qqp_dev_measured"], args.out))
    _print(result, args.json)
    return 0


def _qqp_lookups(args, model, classifier, policies, verifier) -> dict[str, Lookups]:
    """Like the cache-quality bench: store each pair's `a`, look up each `b`, in worlds of --world-size pairs
    (the density of one QQP split) that together cover the sampled dev pairs."""
    rows = []
    with gzip.open(args.data / "qqp_pairs.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["split"] == "dev":
                rows.append(Pair(row["a"], row["b"], bool(row["duplicate"])))
    links = DuplicateLinks(rows)  # every dev label: more links, fewer right answers judged wrong
    vectors_of = _dev_vectors(rows, args.embeddings_cache)
    sample = random.Random(args.seed).sample(rows, min(args.pairs or len(rows), len(rows)))
    texts = sorted({t for p in sample for t in (p.a, p.b)})
    vectors = np.stack([vectors_of[t] for t in texts]) if vectors_of else embed_texts(model, texts, "embed qqp")
    categories = _classify(classifier, texts, vectors)
    index = {t: i for i, t in enumerate(texts)}
    keys = np.unique([normalise(t) for t in texts], return_inverse=True)[1]
    groups = np.unique([links.group(t) for t in texts], return_inverse=True)[1]
    merged: dict[str, list[Lookups]] = defaultdict(list)
    for start in range(0, len(sample), args.world_size):
        world = sample[start : start + args.world_size]
        stored = np.array(sorted({int(keys[index[p.a]]): index[p.a] for p in world}.values()))
        stored_keys, stored_groups = set(keys[stored]), set(groups[stored])
        # A `b` whose own text is stored is answered by the exact tier: no threshold decides it.
        queries = np.array(sorted({index[p.b] for p in world if keys[index[p.b]] not in stored_keys
                                   and (args.all_queries or _verifier_held_out(links.group(p.b)))}))
        answerable = {q: groups[q] in stored_groups for q in queries}
        for name, found in _lookups(texts, vectors, categories, keys, groups, stored, queries, answerable, policies,
                                    verifier, args.top_k, f"qqp {start // args.world_size + 1}").items():
            merged[name].append(found)
    return {name: Lookups(*(np.concatenate([getattr(f, a) for f in found]) for a in Lookups.__dataclass_fields__))
            for name, found in merged.items()}


def _clinc_lookups(args, model, classifier, policies, verifier) -> dict[str, Lookups]:
    clinc = json.loads((args.data / "clinc150.json").read_text())
    taken: Counter = Counter()
    stored_rows = []
    for text, intent in clinc["train"]:
        if taken[intent] < args.clinc_per_intent:
            taken[intent] += 1
            stored_rows.append((text, intent))
    rows = stored_rows + [(t, i) for t, i in clinc["test"][: args.clinc_queries]]
    texts = [t for t, _ in rows]
    intents = np.unique([i for _, i in rows], return_inverse=True)[1]
    vectors = embed_texts(model, texts, "embed clinc")
    keys = np.arange(len(texts))  # every utterance its own key: a query is never in the store
    stored, queries = np.arange(len(stored_rows)), np.arange(len(stored_rows), len(texts))
    # Same intent is the most a CLINC hit can be judged: only other-intent hits count, as certainly wrong.
    return _lookups(texts, vectors, _classify(classifier, texts, vectors), keys, intents, stored, queries,
                    {q: True for q in queries}, policies, verifier, args.top_k, "clinc")


def _classify(classifier: CategoryClassifier, texts: list[str], vectors: np.ndarray) -> np.ndarray:
    return np.array([classifier.classify(t, v).category for t, v in zip(texts, vectors)])


def _lookups(texts, vectors, categories, keys, groups, stored, queries, answerable, policies: PolicySet, verifier,
             top_k: int, label: str, batch: int = 256) -> dict[str, Lookups]:
    """Each query against the stored texts of its own category, as the cache decides: the top-k
    neighbours, the guards of the category, the verifier's probability in the context of all k."""
    views: dict[int, object] = {}

    def view_of(i: int):
        if i not in views:
            views[i] = view(texts[i])
        return views[i]

    out: dict[str, Lookups] = {}
    for name in sorted(set(categories[queries])):
        store = stored[categories[stored] == name]
        mine = queries[categories[queries] == name]
        guards = policies.get(name).guards
        columns = ([], [], [], [], [])
        for start in tqdm(range(0, len(mine), batch), desc=f"{label} {name}", unit="batch", file=sys.stderr):
            chunk = mine[start : start + batch]
            sims = vectors[chunk] @ vectors[store].T if len(store) else np.zeros((len(chunk), 0))
            for row, q in enumerate(chunk):
                best = np.argsort(-sims[row])[:top_k]
                top, top_sims = store[best], sims[row, best]
                qv, cviews = view_of(q), [view_of(c) for c in top]
                probs = (verifier.probabilities(qv, list(zip(cviews, top_sims.tolist())), top_sims.tolist())
                         if verifier is not None and len(top) else np.ones(len(top)))
                guard_ok = [rejection(qv.facts, cv.facts, guards) is None for cv in cviews]
                for column, values, fill in zip(columns, (top_sims, probs, groups[top] == groups[q], guard_ok),
                                                (-1.0, -1.0, False, False)):
                    column.append(_pad(np.asarray(values), top_k, fill))
                columns[4].append(answerable[q])
        out[str(name)] = Lookups(*(np.array(c) for c in columns))
    return out


def _verifier_held_out(group: str) -> bool:
    """The duplicate groups train_verifier keeps out of training (md5 of the group, 20%): thresholds are
    measured on lookups the verifier never learned from."""
    return int(hashlib.md5(group.encode()).hexdigest(), 16) % 1000 < 200


def _pad(values: np.ndarray, size: int, fill) -> np.ndarray:
    padded = np.full(size, fill, dtype=np.asarray(values).dtype if len(values) else type(fill))
    padded[: len(values)] = values
    return padded


def _dev_vectors(rows: list[Pair], cache: Path) -> dict[str, np.ndarray] | None:
    """The dev embeddings train_verifier saved, if they are of these texts (same digest)."""
    texts = sorted({t for p in rows for t in (p.a, p.b)})
    if not cache.exists():
        return None
    with np.load(cache) as data:
        if str(data["digest"]) != hashlib.sha256("\n".join(texts).encode()).hexdigest():
            return None
        return dict(zip(texts, data["vectors"].astype(np.float32)))


def _floor(group: Lookups, keep: float) -> float:
    """The similarity under which only 1 - keep of the right answers lie: a floor that preselects
    candidates for the verifier and loses almost nothing it could have answered."""
    right = np.where(group.correct, group.similarity, -1.0).max(axis=1)
    right = right[right > 0]
    if not len(right):
        return float(SIMILARITY_GRID[0])
    return float(SIMILARITY_GRID[max(0, np.searchsorted(SIMILARITY_GRID, np.quantile(right, 1 - keep), "right") - 1)])


def _choose(tables: dict[str, np.ndarray], answerable: dict[str, int], floors: dict[str, float], target: float,
            min_answerable: int) -> dict[str, tuple[float, float]]:
    """With each category's similarity floor fixed, the verifier thresholds that maximise pooled right hits at a
    pooled false-hit rate <= target (a Lagrangian sweep: one free number per category keeps the choice robust).
    Categories with too few answerable lookups share the best single verifier threshold, '*global*'."""
    rows = {n: t[_grid_index(SIMILARITY_GRID, floors[n])] for n, t in tables.items()}  # (verifier grid, 2)
    shared = _best_pair(sum(rows.values())[None, ...], target)[1]
    measured = {n: r for n, r in rows.items() if answerable[n] >= min_answerable}
    fixed = sum((rows[n][_grid_index(VERIFIER_GRID, shared)] for n in rows if n not in measured), np.zeros(2))
    best = None
    for lam in LAMBDAS:
        picks = {n: _first_best((r[:, 0] - lam * (r[:, 1] - r[:, 0]))[None, :])[1] for n, r in measured.items()}
        right, hits = sum((r[picks[n]] for n, r in measured.items()), fixed)
        if hits and (hits - right) / hits <= target and (best is None or right > best[0]):
            best = (right, picks)
    chosen = {n: (floors[n], float(VERIFIER_GRID[j])) for n, j in (best[1] if best else {}).items()}
    return {**chosen, "*global*": (float(SIMILARITY_GRID[0]), shared)}


def _grid_index(grid: np.ndarray, value: float) -> int:
    return int(np.argmin(np.abs(grid - value)))


def _best_pair(table: np.ndarray, target: float) -> tuple[float, float]:
    """The most right hits at false-hit rate <= target; when no pair gets there, the pair closest to it."""
    right, hits = table[..., 0], table[..., 1]
    rate = np.where(hits > 0, (hits - right) / np.maximum(hits, 1), 1.0)
    score = np.where(rate <= target, right, -1) if (rate <= target).any() else -rate
    i, j = _first_best(score)
    return float(SIMILARITY_GRID[i]), float(VERIFIER_GRID[j])


def _first_best(score: np.ndarray) -> tuple[int, int]:
    """Argmax over (similarity, verifier) thresholds; ties go to the lowest similarity threshold, then the
    highest verifier threshold: the similarity floor only preselects, the calibrated verifier decides."""
    i, j = np.unravel_index(np.argmax(score[:, ::-1]), score.shape)
    return int(i), int(score.shape[1] - 1 - j)


def _at(table: np.ndarray, pair: tuple[float, float]) -> np.ndarray:
    return table[_grid_index(SIMILARITY_GRID, pair[0]), _grid_index(VERIFIER_GRID, pair[1])].astype(float)


def _category_outcome(table: np.ndarray | None, answerable: int, pair: tuple[float, float]) -> dict:
    right, hits = (0.0, 0.0) if table is None else _at(table, pair)
    return {"qqp_hits": int(hits), "qqp_recall": right / max(answerable, 1),
            "qqp_false_hit_rate": (hits - right) / hits if hits else 0.0}


def _wrong_share(group: Lookups | None, pair: tuple[float, float]) -> float | None:
    if group is None or not len(group.answerable):
        return None
    right, hits = _at(group.table(), pair)
    return (hits - right) / hits if hits else 0.0


def _raise_until_clinc_agrees(group: Lookups | None, pair: tuple[float, float], target: float,
                              verifier: bool) -> tuple[float, float]:
    """Raise the verifier threshold (without a verifier: the similarity threshold) until other-intent hits
    on CLINC150 stay within the target."""
    if group is None or len(group.answerable) < 100:
        return pair
    table = group.table()
    steps = ([(pair[0], float(v)) for v in VERIFIER_GRID if v >= pair[1]] if verifier
             else [(float(s), pair[1]) for s in SIMILARITY_GRID if s >= pair[0]])
    for candidate in steps:
        right, hits = _at(table, candidate)
        if not hits or (hits - right) / hits <= target:
            return candidate
    return steps[-1]


def _compare(tables: dict[str, np.ndarray], answerable: dict[str, int], pairs: dict[str, tuple[float, float]]) -> dict:
    """These per-category pairs pooled, beside the single global pair with the most recall at no higher false-hit rate."""

    def pooled(pair_of) -> dict:
        right = hits = 0.0
        for name, table in tables.items():
            r, h = _at(table, pair_of(name))
            right, hits = right + r, hits + h
        return {"recall": right / max(sum(answerable.values()), 1), "false_hit_rate": (hits - right) / hits if hits else 0.0,
                "hits": int(hits)}

    per_category = pooled(lambda name: pairs[name])
    single = _best_pair(sum(tables.values()), per_category["false_hit_rate"])
    best_global = {"similarity_threshold": single[0], "verifier_threshold": single[1], **pooled(lambda name: single)}
    ratio = per_category["recall"] / best_global["recall"] if best_global["recall"] else None
    return {"per_category": per_category, "best_global": best_global, "recall_ratio": ratio}


def _plot(tables: dict[str, np.ndarray], answerable: dict[str, int], rows: dict, comparison: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, table in tables.items():
        right, hits = table[..., 0].ravel(), table[..., 1].ravel()
        keep = hits > 0
        rate, recall = ((hits - right) / np.maximum(hits, 1))[keep], (right / max(answerable[name], 1))[keep]
        order = np.argsort(rate)
        line, = ax.plot(rate[order], np.maximum.accumulate(recall[order]), label=f"{name} ({answerable[name]} answerable)")
        r, h = _at(table, (rows[name]["similarity_threshold"], rows[name]["verifier_threshold"]))
        ax.plot([(h - r) / h if h else 0.0], [r / max(answerable[name], 1)], "o", color=line.get_color())
    pc, g = comparison["per_category"], comparison["best_global"]
    ax.plot([pc["false_hit_rate"]], [pc["recall"]], "k*", markersize=12, label="per-category thresholds, pooled")
    ax.plot([g["false_hit_rate"]], [g["recall"]], "kx", markersize=10, label="best single global pair")
    ax.set_xlim(0, 0.3)
    ax.set_xlabel("false-hit rate (wrong hits / hits)")
    ax.set_ylabel("recall (right hits / answerable lookups)")
    ax.set_title("QQP dev: best recall per false-hit rate; dots: chosen thresholds")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = out / "recall_vs_false_hits.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=2))
        return
    s = result["setup"]
    print(f"{s['policy']}: QQP dev, {s['qqp_pairs']} pairs, top-{s['top_k']} lookups, verifier "
          f"{'on' if s['verifier'] else 'absent (cosine only)'}; pooled false-hit target {s['target_false_hit']} "
          f"(adaptive floors: {s['adaptive_target_false_hit']})")
    fmt = lambda v: "-" if v is None else f"{v:.3f}"
    print(f"{'category':<18}{'lookups':>8}{'answer.':>8}{'ver.from':>9}{'sim':>6}{'ver':>6}{'hits':>6}{'recall':>7}"
          f"{'false':>7}{'clinc wrong':>12}"
          f"{'| adapt sim':>11}{'ver':>6}{'| shipped sim':>13}{'ver':>6}")
    for name, r in result["categories"].items():
        print(f"{name:<18}{r['qqp_lookups']:>8}{r['qqp_answerable']:>8}{r['verifier_from']:>9}"
              f"{r['similarity_threshold']:>6.2f}{r['verifier_threshold']:>6.2f}{r['qqp_hits']:>6}{r['qqp_recall']:>7.3f}"
              f"{r['qqp_false_hit_rate']:>7.3f}{fmt(r['clinc_wrong_intent_hits']):>12}"
              f"{'| ':>3}{r['adaptive_min_similarity']:>8.2f}{r['adaptive_min_verifier']:>6.2f}"
              f"{'| ':>3}{r['shipped'][0]:>10.2f}{r['shipped'][1]:>6.2f}")
    for label in ("qqp_dev_measured", "qqp_dev_shipped"):
        c = result[label]
        pc, g = c["per_category"], c["best_global"]
        print(f"{label}: per-category recall {pc['recall']:.3f} at false-hit rate {pc['false_hit_rate']:.4f} | best single "
              f"pair (sim {g['similarity_threshold']:.2f}, verifier {g['verifier_threshold']:.2f}) recall {g['recall']:.3f} at "
              f"{g['false_hit_rate']:.4f} | recall ratio {fmt(c['recall_ratio'])}")
    print(f"plot: {result['plot']}")
