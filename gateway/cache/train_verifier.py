"""Train the duplicate verifier: `python -m gateway.cache.train_verifier`.

Only the `dev` split of QQP is read. Training examples are what the verifier meets at run
time: the dev pairs are cut into "worlds" the size of the test split; in each, every `a`
is stored, each `b` retrieves its top-k neighbours above the context floor, and a neighbour
is a positive only when duplicate labels link it to the query (transitively). So the
verifier learns to reject retrieved look-alikes, not just the pair's own `a`. The last
world is held out: it calibrates the probability (Platt) and measures the threshold that
reaches each target false-hit rate; both are saved with the weights.
"""

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gateway.cache.embedder import EmbeddingModel
from gateway.cache.evaluation import DuplicateLinks, Outcome, Pair, auc, summarise
from gateway.cache.guards import Facts, rejection
from gateway.cache.qqp_dev import add_dev_arguments, embedded_dev
from gateway.cache.text import content_words, normalise, stem
from gateway.cache.verifier import WEIGHTS_PATH, Verifier, VerifierInfo
from gateway.cache.verifier_features import (
    CONTEXT_FLOOR,
    FEATURES,
    IDF_BUCKETS,
    QuestionView,
    context_of,
    pair_features,
    view,
    word_bucket,
)
from gateway.cache.verifier_suite_rows import suite_rows

TARGET_FALSE_HIT_RATES = ("0.005", "0.01", "0.015", "0.02", "0.03", "0.05")


@dataclass
class Candidates:
    """Retrieved (query, stored question) rows with their labels, and the lookups they belong to."""

    query: np.ndarray  # text index of the query, per row
    cand: np.ndarray  # text index of the stored question, per row
    similarity: np.ndarray
    context: np.ndarray  # context_of() per row
    label: np.ndarray  # 1 when duplicate labels link them
    lookup: np.ndarray  # which lookup (pair) the row belongs to
    held_out: np.ndarray  # per lookup
    answerable: np.ndarray  # per lookup: some stored question is linked to it
    exact: np.ndarray  # per lookup: its own text is stored (the exact tier answers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.cache.train_verifier", description=__doc__.split("\n\n")[0]
    )
    add_dev_arguments(parser, WEIGHTS_PATH)
    parser.add_argument("--top-k", type=int, default=8, help="neighbours retrieved per query (as the cache does)")
    parser.add_argument(
        "--world-size", type=int, default=20000, help="pairs per simulated cache (the test split's size)"
    )
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--suite",
        type=Path,
        help="also train on the tune half of this single-turn suite file (loadtest/data/cache_suite/single.jsonl)",
    )
    parser.add_argument("--suite-domains", help="comma-separated tune domains to read (default: all of them)")
    parser.add_argument("--suite-weight", type=int, default=20, help="times each suite row counts against a QQP row")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = EmbeddingModel()
    dev = embedded_dev(args.qqp, model, args.embeddings_cache)
    pairs, texts, vectors = dev.pairs, dev.texts, dev.vectors
    idf = hashed_idf(texts)
    rows = retrieve(pairs, texts, vectors, args.top_k, args.world_size)
    features = featurise(rows, texts, idf)
    train = ~rows.held_out[rows.lookup]
    x, y = features[train], rows.label[train]
    suite = None
    if args.suite is not None:
        domains = frozenset(args.suite_domains.split(",")) if args.suite_domains else None
        suite = suite_rows(args.suite, model, idf, args.top_k, domains)
        x = np.concatenate([x, *[suite.features] * args.suite_weight])
        y = np.concatenate([y, *[suite.labels] * args.suite_weight])
    print(
        f"{len(pairs)} dev pairs, {len(rows.label)} retrieved candidates ({rows.label.mean():.1%} linked), "
        f"{train.sum()} for training"
        + (f", {len(suite.labels)} suite candidates x{args.suite_weight}" if suite else ""),
        file=sys.stderr,
    )
    mean, scale, layers = fit_mlp(x, y, args.hidden, args.epochs, args.seed)
    uncalibrated = Verifier(mean, scale, layers, (1.0, 0.0), idf, VerifierInfo(FEATURES, {}, {}))
    calibration = platt(uncalibrated.raw_logits(features[~train]), rows.label[~train])
    probabilities = Verifier(mean, scale, layers, calibration, idf, VerifierInfo(FEATURES, {}, {})).predict(features)
    table = threshold_table(rows, probabilities, texts)
    training = {
        "pairs": len(pairs),
        "candidates": len(rows.label),
        "top_k": args.top_k,
        "context_floor": CONTEXT_FLOOR,
        "world_size": args.world_size,
        "hidden": args.hidden,
        "epochs": args.epochs,
        "seed": args.seed,
        "suite": None
        if suite is None
        else {
            "file": str(args.suite),
            "domains": args.suite_domains or "all tune",
            "pairs": suite.pairs,
            "candidates": len(suite.labels),
            "weight": args.suite_weight,
        },
        "held_out_auc": auc(probabilities[~train], rows.label[~train]),
        "held_out_cosine_auc": auc(rows.similarity[~train], rows.label[~train]),
        "held_out_at_threshold": table,
        "seconds": round(time.perf_counter() - started, 1),
    }
    thresholds = {target: row["threshold"] for target, row in table.items()}
    Verifier(mean, scale, layers, calibration, idf, VerifierInfo(FEATURES, thresholds, training)).save(args.out)
    print(
        f"held-out AUC {training['held_out_auc']:.4f} (cosine alone {training['held_out_cosine_auc']:.4f}); "
        "thresholds by target false-hit rate:",
        file=sys.stderr,
    )
    for target, row in table.items():
        print(
            f"  <= {target}: p >= {row['threshold']:.3f}  recall {row['recall']:.3f}  "
            f"false_hit_rate {row['false_hit_rate']:.4f}  precision {row['precision']:.3f}",
            file=sys.stderr,
        )
    print(f"saved {args.out}", file=sys.stderr)
    return 0


def hashed_idf(texts: list[str]) -> np.ndarray:
    """Inverse document frequency of stemmed content words, in hashed buckets (small to ship)."""
    df = np.zeros(IDF_BUCKETS, np.float64)
    for text in texts:
        for bucket in {word_bucket(stem(w)) for w in content_words(text)}:
            df[bucket] += 1
    return (np.log((len(texts) + 1) / (df + 1)) + 1.0).astype(np.float32)


def retrieve(pairs: list[Pair], texts: list[str], vectors: np.ndarray, k: int, world_size: int) -> Candidates:
    """Simulate the cache on consecutive worlds of `world_size` pairs; the last world is held out."""
    position = {t: i for i, t in enumerate(texts)}
    worlds = world_slices(len(pairs), world_size)
    columns: dict[str, list] = {name: [] for name in ("query", "cand", "similarity", "context", "label", "lookup")}
    held_out: list[bool] = []
    answerable: list[bool] = []
    exact: list[bool] = []
    for number, world in enumerate(worlds):
        world_pairs = [pairs[i] for i in world]
        links = DuplicateLinks(world_pairs)
        stored_by_key: dict[str, int] = {}
        for p in world_pairs:
            stored_by_key.setdefault(normalise(p.a), position[p.a])
        stored = np.fromiter(stored_by_key.values(), dtype=np.int64)
        stored_groups = [links.group(texts[i]) for i in stored]
        groups_with_entries = set(stored_groups)
        matrix = vectors[stored]
        for start in tqdm(
            range(0, len(world_pairs), 1024), desc=f"retrieving, world {number + 1}/{len(worlds)}", file=sys.stderr
        ):
            chunk = world_pairs[start : start + 1024]
            sims = vectors[[position[p.b] for p in chunk]] @ matrix.T
            top = np.argpartition(-sims, k, axis=1)[:, :k]
            for i, p in enumerate(chunk):
                lookup = len(held_out)
                group = links.group(p.b)
                held_out.append(number == len(worlds) - 1)
                answerable.append(group in groups_with_entries)
                exact.append(normalise(p.b) in stored_by_key)
                # The exact tier answers a stored text before the semantic tier runs; lower
                # neighbours are neither candidates nor context.
                kept = [
                    j for j in top[i] if sims[i, j] >= CONTEXT_FLOOR and normalise(texts[stored[j]]) != normalise(p.b)
                ]
                similarities = [float(sims[i, j]) for j in kept]
                for j, similarity in zip(kept, similarities, strict=True):
                    columns["query"].append(position[p.b])
                    columns["cand"].append(int(stored[j]))
                    columns["similarity"].append(similarity)
                    columns["context"].append(context_of(similarity, similarities))
                    columns["label"].append(int(stored_groups[j] == group))
                    columns["lookup"].append(lookup)
    return Candidates(
        **{k: np.asarray(v) for k, v in columns.items()},
        held_out=np.asarray(held_out),
        answerable=np.asarray(answerable),
        exact=np.asarray(exact),
    )


def world_slices(pairs: int, world_size: int) -> list[np.ndarray]:
    """Consecutive worlds of about `world_size` pairs (in file order); the last one is held out."""
    return np.array_split(np.arange(pairs), max(1, round(pairs / world_size)))


def held_out_world(pairs: list[Pair], world_size: int) -> list[Pair]:
    """The dev pairs the verifier never trained on: they calibrated it, and they choose the thresholds."""
    return [pairs[i] for i in world_slices(len(pairs), world_size)[-1]]


def featurise(rows: Candidates, texts: list[str], idf: np.ndarray) -> np.ndarray:
    views: dict[int, QuestionView] = {}
    out = np.empty((len(rows.label), len(FEATURES)), np.float32)
    for r in tqdm(range(len(rows.label)), desc="features", file=sys.stderr, mininterval=1.0):
        q, c = int(rows.query[r]), int(rows.cand[r])
        qv = views.get(q) or views.setdefault(q, view(texts[q]))
        cv = views.get(c) or views.setdefault(c, view(texts[c]))
        out[r] = pair_features(qv, cv, float(rows.similarity[r]), list(rows.context[r]), idf)
    return out


Layers = list[tuple[np.ndarray, np.ndarray]]  # (weights, bias) per layer


def fit_mlp(x: np.ndarray, y: np.ndarray, hidden: int, epochs: int, seed: int) -> tuple[np.ndarray, np.ndarray, Layers]:
    """One hidden ReLU layer trained with AdamW on the log loss; returns (mean, scale, layers)."""
    import torch

    torch.manual_seed(seed)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs = torch.from_numpy((x - mean) / scale)
    ys = torch.from_numpy(y.astype(np.float32))
    first, last = torch.nn.Linear(x.shape[1], hidden), torch.nn.Linear(hidden, 1)
    net = torch.nn.Sequential(first, torch.nn.ReLU(), last)
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(epochs), desc="training", file=sys.stderr):
        for batch in torch.randperm(len(xs), generator=generator).split(256):
            optimiser.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(xs[batch])[:, 0], ys[batch])
            loss.backward()
            optimiser.step()
    layers = [
        (first.weight.detach().numpy().T.copy(), first.bias.detach().numpy().copy()),
        (last.weight.detach().numpy().T.copy(), last.bias.detach().numpy().copy()),
    ]
    return mean, scale, layers


def platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1e6).fit(logits.reshape(-1, 1), labels)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def threshold_table(rows: Candidates, probabilities: np.ndarray, texts: list[str]) -> dict[str, dict]:
    """On the held-out world, as the cache decides: guards (all on) veto, the most probable
    remaining candidate hits when its probability reaches the threshold; exact repeats hit."""
    from policies.schema import GuardPolicy

    switches = GuardPolicy()
    facts: dict[int, Facts] = {}
    best: dict[int, tuple[float, bool]] = {}
    for q, c, p, label, lookup in zip(rows.query, rows.cand, probabilities, rows.label, rows.lookup, strict=True):
        if not rows.held_out[lookup]:
            continue
        fq = facts.get(q) or facts.setdefault(q, view(texts[q]).facts)
        fc = facts.get(c) or facts.setdefault(c, view(texts[c]).facts)
        if rejection(fq, fc, switches) is None and p > best.get(int(lookup), (-1.0, False))[0]:
            best[lookup] = (float(p), bool(label))
    lookups = np.flatnonzero(rows.held_out)

    def at(threshold: float) -> dict:
        outcomes = []
        for lookup in lookups:
            p, correct = best.get(int(lookup), (-1.0, False))
            exact = bool(rows.exact[lookup])
            hit = exact or p >= threshold
            outcomes.append(Outcome("all", bool(rows.answerable[lookup]), hit, exact or (hit and correct)))
        return {"threshold": float(threshold), **summarise(outcomes)}

    sweep = [at(t) for t in np.round(np.arange(0.30, 1.0, 0.005), 3)]
    table = {}
    for target in TARGET_FALSE_HIT_RATES:
        allowed = [r for r in sweep if r["false_hit_rate"] <= float(target)]
        table[target] = max(allowed, key=lambda r: (r["recall"], -r["threshold"])) if allowed else sweep[-1]
    return table


if __name__ == "__main__":
    sys.exit(main())
