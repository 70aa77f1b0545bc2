"""Measures the per-category thresholds config/policies.yaml ships, and the best single global pair.

It replays the cache's decision on the QQP `dev` pairs the verifier never trained on (the held-out
world of `python -m gateway.cache.train_verifier`, as large as the `test` split), exactly as the
cache-quality bench judges `test`: each pair's `a` is stored, each pair's `b` is looked up. A `b`
whose text is stored is answered by the exact tier; any other looks up its top-k neighbours over
every category (as the cache does), drops those under its category's similarity threshold or
tripping its guards, and hits when the best verifier probability reaches its category's verifier
threshold. A hit is right when duplicate labels link the two questions (transitively). The
false-hit rate is the cache-quality bench's: false hits / lookups that should miss (no right answer
is stored).

Per category, a (similarity floor, verifier threshold) pair; together they maximise recall at a
pooled false-hit rate of --target (a Lagrangian sweep over the categories, never worse than the best
single pair for all). --adaptive-target gives the `adaptive` bounds the same way. Categories with fewer than --min-answerable answerable
lookups take the best single verifier threshold. CLINC150 then checks every category where QQP is
thin: looking its `test` utterances up among `train` ones, a hit on another intent is certainly
wrong, and the thresholds are raised until such hits stay within --clinc-target of the hits.
"""

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gateway.cache.embedder import encode_cached
from gateway.cache.evaluation import DuplicateLinks, read_pairs
from gateway.cache.guards import rejection
from gateway.cache.text import normalise
from gateway.cache.verifier import WEIGHTS_PATH, Verifier
from gateway.cache.verifier_features import CONTEXT_FLOOR, view
from gateway.cache.verifier_world import held_out_world
from loadtest import smoke
from loadtest.benches.classify import EVALDATA, embed_texts, load_minilm
from policies.classifier import CategoryClassifier
from policies.loader import load_policy_file
from policies.schema import PolicySet

DESCRIPTION = "per-category similarity + verifier thresholds from QQP dev (checked on CLINC150) vs one global pair"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"world_size": 300, "clinc_per_intent": 2, "clinc_queries": 50}
# The verifier only ever saw candidates at or above its context floor: no threshold goes below it.
SIMILARITY_GRID = np.round(np.arange(CONTEXT_FLOOR, 0.995, 0.01), 2)
VERIFIER_GRID = np.round(np.arange(0.0, 1.0, 0.01), 2)
LAMBDAS = np.geomspace(0.05, 500, 160)
TOP_K = 8  # neighbours a lookup considers (the cache's default)
CLINC_TARGET = 0.05  # the share of a category's CLINC150 hits that may be on another intent
CLINC_PER_INTENT = 20  # CLINC150 train utterances stored per intent


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policy", type=Path, default=Path("config/policies.yaml"))
    parser.add_argument("--data", type=Path, default=EVALDATA)
    parser.add_argument("--world-size", type=int, default=20000,
                        help="the verifier's world size (its last world of dev pairs is the held-out one used here)")
    parser.add_argument("--embeddings-cache", type=Path, default=Path("artifacts/verifier/dev_embeddings.npz"),
                        help="dev embeddings saved by `python -m gateway.cache.train_verifier` (used when it matches)")
    parser.add_argument("--verifier", type=Path, default=WEIGHTS_PATH, help="verifier weights (absent: cosine only)")
    parser.add_argument("--top-k", type=int, default=TOP_K, help="neighbours a lookup considers (the cache's default)")
    parser.add_argument("--target", type=float, default=0.015,
                        help="pooled false-hit rate for the thresholds (false hits / lookups that should miss)")
    parser.add_argument("--adaptive-target", type=float, default=0.04, help="pooled false-hit rate for the adaptive floors")
    parser.add_argument("--clinc-target", type=float, default=CLINC_TARGET,
                        help="share of CLINC150 hits on another intent a category may have")
    parser.add_argument("--min-answerable", type=int, default=40, help="fewer answerable lookups: the category takes the global pair")
    parser.add_argument("--clinc-per-intent", type=int, default=CLINC_PER_INTENT,
                        help="CLINC150 train utterances stored per intent")
    parser.add_argument("--clinc-queries", type=int, default=None, help="look up only the first N CLINC150 test utterances")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("artifacts/policy_thresholds"))
    parser.add_argument("--json", action="store_true")


@dataclass
class Lookups:
    """Top-k candidates of the lookups of one category: (lookups, k) arrays, padded with similarity -1."""

    similarity: np.ndarray
    probability: np.ndarray
    correct: np.ndarray
    guard_ok: np.ndarray
    answerable: np.ndarray  # per lookup: a right answer is stored somewhere (the recall denominator)
    exact: np.ndarray  # per lookup: its own text is stored, the exact tier answers it (always right)

    @property
    def should_miss(self) -> int:
        """Lookups with no right answer stored (the false-hit rate's denominator)."""
        return int((~self.answerable).sum())

    def counts(self, similarity_threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """(right hits, hits) for every verifier threshold of VERIFIER_GRID."""
        eligible = (self.similarity >= similarity_threshold) & self.guard_ok
        scores = np.where(eligible, self.probability, -1.0)
        best = scores.argmax(axis=1)
        rows = np.arange(len(best))
        best_score, best_correct = scores[rows, best], self.correct[rows, best]
        hits = (best_score[None, :] >= VERIFIER_GRID[:, None]) | self.exact[None, :]
        return (hits & (best_correct | self.exact)[None, :]).sum(axis=1), hits.sum(axis=1)

    def table(self) -> np.ndarray:
        """(similarity grid, verifier grid, 2): right hits and hits at each threshold pair."""
        return np.stack([np.stack(self.counts(s), axis=-1) for s in SIMILARITY_GRID])


def run(args: argparse.Namespace) -> int:
    policies = load_policy_file(args.policy)
    model = load_minilm()
    classifier = CategoryClassifier.build(policies, lambda texts: embed_texts(model, texts, "embed examples"))
    verifier = Verifier.load(args.verifier) if args.verifier.exists() else None
    qqp = _qqp_lookups(args, model, classifier, policies, verifier)
    clinc = clinc_lookups(args, model, classifier, policies, verifier)
    tables = {name: group.table() for name, group in qqp.items()}
    support = {name: (int(group.answerable.sum()), group.should_miss) for name, group in qqp.items()}
    safe = clinc_safe_pairs(clinc, args.clinc_target, verifier is not None)
    chosen = _choose(tables, support, args.target, args.min_answerable)
    loose = _choose(tables, support, args.adaptive_target, args.min_answerable)
    rows = {}
    for category in policies.categories:
        name = category.name
        measured = chosen.get(name, chosen["*global*"])
        pair = _raise_until_clinc_agrees(clinc.get(name), measured, args.clinc_target, verifier is not None)
        # Load may loosen a category down to its floors, never past what CLINC150 allows it.
        adaptive = _raise_until_clinc_agrees(clinc.get(name), loose.get(name, loose["*global*"]), args.clinc_target,
                                             verifier is not None)
        answerable, should_miss = support.get(name, (0, 0))
        rows[name] = {
            "qqp_lookups": 0 if name not in qqp else len(qqp[name].answerable), "qqp_answerable": answerable,
            "qqp_should_miss": should_miss,
            "verifier_from": "qqp" if name in chosen and answerable >= args.min_answerable else "global",
            "similarity_threshold": pair[0], "verifier_threshold": pair[1], "raised_by_clinc": pair != measured,
            **_category_outcome(tables.get(name), support.get(name, (0, 0)), pair),
            "clinc_wrong_intent_hits": _wrong_share(clinc.get(name), pair),
            "adaptive_min_similarity": min(adaptive[0], pair[0]), "adaptive_min_verifier": min(adaptive[1], pair[1]),
            "shipped": [category.similarity_threshold, category.verifier_threshold if category.verify else 0.0],
            "shipped_adaptive": [category.adaptive.min_similarity, category.adaptive.min_verifier],
        }
    result = {
        "setup": {"policy": str(args.policy), "qqp": "dev, the verifier's held-out world",
                  "qqp_lookups": sum(len(g.answerable) for g in qqp.values()), "top_k": args.top_k,
                  "verifier": str(args.verifier) if verifier is not None else None,
                  "target_false_hit": args.target, "adaptive_target_false_hit": args.adaptive_target,
                  "clinc_target_wrong_share": args.clinc_target},
        "categories": rows,
        "qqp_dev_measured": _compare(tables, support,
                                     {n: (r["similarity_threshold"], r["verifier_threshold"]) for n, r in rows.items()},
                                     safe),
        "qqp_dev_shipped": _compare(tables, support, {n: tuple(r["shipped"]) for n, r in rows.items()}, safe),
    }
    result["plot"] = str(_plot(tables, support, rows, result["qqp_dev_measured"], args.out))
    _print(result, args.json)
    return 0


def _qqp_lookups(args, model, classifier, policies, verifier) -> dict[str, Lookups]:
    """The verifier's held-out dev world, judged as cache-quality judges `test`: every `a` stored
    (first copy of each text), every pair's `b` looked up, hits judged by the world's own labels."""
    pairs = read_pairs(args.data / "qqp_pairs.jsonl.gz", split="dev")
    world = held_out_world(pairs, args.world_size)
    links = DuplicateLinks(world)
    texts = sorted({t for p in world for t in (p.a, p.b)})
    # The dev embeddings train_verifier keeps (all of dev, so the file serves both tools). A smoke run without
    # that file embeds only its own small world and writes none, leaving the file to the real runs.
    dev_texts, cache = sorted({t for p in pairs for t in (p.a, p.b)}), args.embeddings_cache
    if smoke.enabled() and not cache.exists():
        dev_texts, cache = texts, None
    vector_of = dict(zip(dev_texts, encode_cached(model, dev_texts, cache)))
    vectors = np.stack([vector_of[t] for t in texts]).astype(np.float32)
    categories = _classify(classifier, texts, vectors)
    index = {t: i for i, t in enumerate(texts)}
    stored_by_key: dict[str, int] = {}
    for p in world:
        stored_by_key.setdefault(normalise(p.a), index[p.a])
    stored = np.fromiter(stored_by_key.values(), dtype=np.int64)
    groups = np.unique([links.group(t) for t in texts], return_inverse=True)[1]
    stored_groups = set(groups[stored].tolist())
    queries = np.array([index[p.b] for p in world])
    answerable = np.array([groups[q] in stored_groups for q in queries])
    exact = np.array([normalise(p.b) in stored_by_key for p in world])
    return _lookups(texts, vectors, categories, groups, stored, queries, answerable, exact, policies, verifier,
                    args.top_k, "qqp dev")


def clinc_lookups(args, model, classifier, policies, verifier) -> dict[str, Lookups]:
    """CLINC150 `test` utterances looked up among `args.clinc_per_intent` `train` utterances per intent
    (args: data, clinc_per_intent, clinc_queries, top_k, out), grouped by the query's category."""
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
    vectors = encode_cached(model, texts, args.out / "clinc_embeddings.npz")
    stored, queries = np.arange(len(stored_rows)), np.arange(len(stored_rows), len(texts))
    # Same intent is the most a CLINC hit can be judged: only other-intent hits count, as certainly wrong.
    return _lookups(texts, vectors, _classify(classifier, texts, vectors), intents, stored, queries,
                    np.ones(len(queries), bool), np.zeros(len(queries), bool), policies, verifier, args.top_k, "clinc")


def _classify(classifier: CategoryClassifier, texts: list[str], vectors: np.ndarray) -> np.ndarray:
    return np.array([classifier.classify(t, v).category for t, v in zip(texts, vectors)])


def _lookups(texts, vectors, categories, groups, stored, queries, answerable, exact, policies: PolicySet, verifier,
             top_k: int, label: str, batch: int = 256) -> dict[str, Lookups]:
    """Each query as the cache decides: the top-k neighbours over every stored text (the cache searches
    all categories of a namespace), its own category's guards, the verifier's probability in the context
    of all k. Exact-tier lookups need no candidates."""
    views: dict[int, object] = {}

    def view_of(i: int):
        if i not in views:
            views[i] = view(texts[i])
        return views[i]

    out: dict[str, Lookups] = {}
    for name in sorted(set(categories[queries])):
        mine = np.flatnonzero(categories[queries] == name)
        guards = policies.get(name).guards
        columns = ([], [], [], [])
        for start in tqdm(range(0, len(mine), batch), desc=f"{label} {name}", unit="batch", file=sys.stderr):
            chunk = mine[start : start + batch]
            sims = vectors[queries[chunk]] @ vectors[stored].T
            for row, n in enumerate(chunk):
                if exact[n]:
                    for column, fill in zip(columns, (-1.0, -1.0, False, False)):
                        column.append(np.full(top_k, fill))
                    continue
                q = queries[n]
                best = np.argpartition(-sims[row], top_k)[:top_k] if sims.shape[1] > top_k else np.arange(sims.shape[1])
                best = best[np.argsort(-sims[row, best])]
                top, top_sims = stored[best], sims[row, best]
                qv, cviews = view_of(q), [view_of(c) for c in top]
                probs = (verifier.probabilities(qv, list(zip(cviews, top_sims.tolist())), top_sims.tolist())
                         if verifier is not None and len(top) else np.ones(len(top)))
                guard_ok = [rejection(qv.facts, cv.facts, guards) is None for cv in cviews]
                for column, values, fill in zip(columns, (top_sims, probs, groups[top] == groups[q], guard_ok),
                                                (-1.0, -1.0, False, False)):
                    column.append(_pad(np.asarray(values), top_k, fill))
        out[str(name)] = Lookups(*(np.array(c) for c in columns), answerable[mine], exact[mine])
    return out


def _pad(values: np.ndarray, size: int, fill) -> np.ndarray:
    padded = np.full(size, fill, dtype=np.asarray(values).dtype if len(values) else type(fill))
    padded[: len(values)] = values
    return padded


def _choose(tables: dict[str, np.ndarray], support: dict[str, tuple[int, int]], target: float,
            min_answerable: int) -> dict[str, tuple[float, float]]:
    """A (similarity floor, verifier threshold) pair per category that together give the most pooled right
    hits at a pooled false-hit rate <= target: a Lagrangian sweep (each category maximises right hits minus
    lambda times its false hits), with the best single pair for all categories as one more candidate, so
    the choice is never worse than one global pair on this data. Categories with fewer answerable lookups
    than min_answerable take that global pair, '*global*'."""
    should_miss = max(sum(s for _, s in support.values()), 1)
    shared = _first_best(_score(sum(tables.values()), should_miss, target))
    measured = {n: t for n, t in tables.items() if support[n][0] >= min_answerable}
    fixed = sum((tables[n][shared] for n in tables if n not in measured), np.zeros(2))
    candidates = [{n: shared for n in measured}]
    for lam in LAMBDAS:
        candidates.append({n: _first_best(t[..., 0] - lam * (t[..., 1] - t[..., 0])) for n, t in measured.items()})
    best = None
    for picks in candidates:
        right, hits = sum((measured[n][picks[n]] for n in measured), fixed)
        if (hits - right) / should_miss <= target and (best is None or right > best[0]):
            best = (right, picks)
    pair = lambda ij: (float(SIMILARITY_GRID[ij[0]]), float(VERIFIER_GRID[ij[1]]))  # noqa: E731
    return {**{n: pair(ij) for n, ij in (best[1] if best else {}).items()}, "*global*": pair(shared)}


def _grid_index(grid: np.ndarray, value: float) -> int:
    return int(np.argmin(np.abs(grid - value)))


def _score(table: np.ndarray, should_miss: int, target: float) -> np.ndarray:
    """Right hits where the false-hit rate is within the target; when nothing is, minus the rate."""
    right, hits = table[..., 0], table[..., 1]
    rate = (hits - right) / max(should_miss, 1)
    return np.where(rate <= target, right, -1) if (rate <= target).any() else -rate


def _best_pair(table: np.ndarray, should_miss: int, target: float) -> tuple[float, float]:
    """The most right hits at false-hit rate <= target; when no pair gets there, the pair closest to it."""
    i, j = _first_best(_score(table, should_miss, target))
    return float(SIMILARITY_GRID[i]), float(VERIFIER_GRID[j])


def _first_best(score: np.ndarray) -> tuple[int, int]:
    """Argmax over (similarity, verifier) thresholds; ties go to the lowest similarity threshold, then the
    highest verifier threshold: the similarity floor only preselects, the calibrated verifier decides."""
    i, j = np.unravel_index(np.argmax(score[:, ::-1]), score.shape)
    return int(i), int(score.shape[1] - 1 - j)


def _at(table: np.ndarray, pair: tuple[float, float]) -> np.ndarray:
    return table[_grid_index(SIMILARITY_GRID, pair[0]), _grid_index(VERIFIER_GRID, pair[1])].astype(float)


def _category_outcome(table: np.ndarray | None, support: tuple[int, int], pair: tuple[float, float]) -> dict:
    right, hits = (0.0, 0.0) if table is None else _at(table, pair)
    return {"qqp_hits": int(hits), "qqp_recall": right / max(support[0], 1),
            "qqp_false_hit_rate": (hits - right) / max(support[1], 1)}


def _wrong_share(group: Lookups | None, pair: tuple[float, float]) -> float | None:
    if group is None or not len(group.answerable):
        return None
    right, hits = _at(group.table(), pair)
    return (hits - right) / hits if hits else 0.0


def clinc_safe_pairs(clinc: dict[str, Lookups], target: float, verifier: bool) -> np.ndarray:
    """(similarity, verifier) grid: True where one pair for every category passes the CLINC150 check
    the per-category pairs must pass (other-intent hits within `target` of each category's hits, for
    the categories with enough CLINC150 lookups). Without a verifier only its 0 column counts."""
    safe = np.ones((len(SIMILARITY_GRID), len(VERIFIER_GRID)), dtype=bool)
    for group in clinc.values():
        if len(group.answerable) < 100:
            continue
        table = group.table()
        right, hits = table[..., 0], table[..., 1]
        safe &= (hits == 0) | (hits - right <= target * hits)
    if not verifier:
        safe[:, 1:] = False
    return safe


def _raise_until_clinc_agrees(group: Lookups | None, pair: tuple[float, float], target: float,
                              verifier: bool) -> tuple[float, float]:
    """Raise the verifier threshold (without a verifier: the similarity threshold) until other-intent hits
    on CLINC150 stay within the target share of its hits."""
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


def _compare(tables: dict[str, np.ndarray], support: dict[str, tuple[int, int]],
             pairs: dict[str, tuple[float, float]], clinc_safe: np.ndarray) -> dict:
    """These per-category pairs pooled, beside the single global pair with the most recall at no higher false-hit
    rate, and beside the best single pair that also passes the CLINC150 check the per-category pairs passed."""
    answerable = max(sum(a for a, _ in support.values()), 1)
    should_miss = max(sum(s for _, s in support.values()), 1)

    def pooled(pair_of) -> dict:
        right = hits = 0.0
        for name, table in tables.items():
            r, h = _at(table, pair_of(name))
            right, hits = right + r, hits + h
        return {"recall": right / answerable, "false_hit_rate": (hits - right) / should_miss, "hits": int(hits)}

    per_category = pooled(lambda name: pairs[name])
    single = _best_pair(sum(tables.values()), should_miss, per_category["false_hit_rate"])
    best_global = {"similarity_threshold": single[0], "verifier_threshold": single[1], **pooled(lambda name: single)}
    ratio = per_category["recall"] / best_global["recall"] if best_global["recall"] else None
    safe = best_safe_pair(sum(tables.values()), should_miss, per_category["false_hit_rate"], clinc_safe)
    safe_global = None if safe is None else {"similarity_threshold": safe[0], "verifier_threshold": safe[1],
                                             **pooled(lambda name: safe)}
    return {"per_category": per_category, "best_global": best_global, "recall_ratio": ratio,
            "best_clinc_safe_global": safe_global,
            "recall_ratio_vs_clinc_safe": per_category["recall"] / safe_global["recall"]
            if safe_global and safe_global["recall"] else None}


def best_safe_pair(total: np.ndarray, should_miss: int, max_rate: float,
                   safe: np.ndarray) -> tuple[float, float] | None:
    """The single pair with the most right hits at a false-hit rate <= max_rate among the `safe` ones."""
    right, hits = total[..., 0], total[..., 1]
    allowed = safe & ((hits - right) <= max_rate * max(should_miss, 1) + 1e-9)
    if not allowed.any():
        return None
    i, j = _first_best(np.where(allowed, right, -1))
    return float(SIMILARITY_GRID[i]), float(VERIFIER_GRID[j])


def _plot(tables: dict[str, np.ndarray], support: dict[str, tuple[int, int]], rows: dict, comparison: dict,
          out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, table in tables.items():
        right, hits = table[..., 0].ravel(), table[..., 1].ravel()
        keep = hits > 0
        answerable, should_miss = max(support[name][0], 1), max(support[name][1], 1)
        rate, recall = ((hits - right) / should_miss)[keep], (right / answerable)[keep]
        order = np.argsort(rate)
        line, = ax.plot(rate[order], np.maximum.accumulate(recall[order]),
                        label=f"{name} ({support[name][0]} answerable, {support[name][1]} should miss)")
        r, h = _at(table, (rows[name]["similarity_threshold"], rows[name]["verifier_threshold"]))
        ax.plot([(h - r) / should_miss], [r / answerable], "o", color=line.get_color())
    pc, g = comparison["per_category"], comparison["best_global"]
    ax.plot([pc["false_hit_rate"]], [pc["recall"]], "k*", markersize=12, label="per-category thresholds, pooled")
    ax.plot([g["false_hit_rate"]], [g["recall"]], "kx", markersize=10, label="best single global pair")
    ax.set_xlim(0, 0.1)
    ax.set_xlabel("false-hit rate (false hits / lookups that should miss)")
    ax.set_ylabel("recall (right hits / answerable lookups)")
    ax.set_title("QQP dev (held out): best recall per false-hit rate; dots: chosen thresholds")
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
    print(f"{s['policy']}: QQP {s['qqp']}, {s['qqp_lookups']} lookups, top-{s['top_k']}, verifier "
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
        safe = c["best_clinc_safe_global"]
        if safe is not None:
            print(f"  best single pair that passes the CLINC150 check too (sim {safe['similarity_threshold']:.2f}, "
                  f"verifier {safe['verifier_threshold']:.2f}): recall {safe['recall']:.3f} at "
                  f"{safe['false_hit_rate']:.4f} | recall ratio {fmt(c['recall_ratio_vs_clinc_safe'])}")
    print(f"plot: {result['plot']}")
