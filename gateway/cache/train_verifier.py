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
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gateway.cache.embedder import EmbeddingModel
from gateway.cache.evaluation import Outcome, auc, summarise
from gateway.cache.guards import Facts, rejection
from gateway.cache.qqp_dev import add_dev_arguments, embedded_dev
from gateway.cache.verifier import WEIGHTS_PATH, Verifier, VerifierInfo
from gateway.cache.verifier_features import (
    CONTEXT_FLOOR,
    FEATURES,
    view,
)
from gateway.cache.verifier_suite_rows import suite_rows
from gateway.cache.verifier_world import Candidates, featurise, guard_vetoed, hashed_idf, retrieve

TARGET_FALSE_HIT_RATES = ("0.005", "0.01", "0.015", "0.02", "0.03", "0.05")


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
        "--ensemble",
        type=int,
        default=1,
        help="nets trained with seeds SEED.. SEED+N-1 and averaged in logit space (saved as one wider net)",
    )
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
    held_out = rows.held_out[rows.lookup]
    # QQP's rows: only what the guards let by, which is all the cache asks the verifier about (docs/policies.md).
    passed = ~guard_vetoed(rows, texts)
    train, calibrate = ~held_out & passed, held_out & passed
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
    mean, scale, layers = fit_ensemble(x, y, args.hidden, args.epochs, range(args.seed, args.seed + args.ensemble))
    uncalibrated = Verifier(mean, scale, layers, (1.0, 0.0), idf, VerifierInfo(FEATURES, {}, {}))
    calibration = platt(uncalibrated.raw_logits(features[calibrate]), rows.label[calibrate])
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
        "ensemble": args.ensemble,
        "suite": None
        if suite is None
        else {
            "file": str(args.suite),
            "domains": args.suite_domains or "all tune",
            "pairs": suite.pairs,
            "candidates": len(suite.labels),
            "weight": args.suite_weight,
        },
        "guards_filter_qqp_rows": True,
        "held_out_auc": auc(probabilities[calibrate], rows.label[calibrate]),
        "held_out_cosine_auc": auc(rows.similarity[calibrate], rows.label[calibrate]),
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


def fit_ensemble(
    x: np.ndarray, y: np.ndarray, hidden: int, epochs: int, seeds: range
) -> tuple[np.ndarray, np.ndarray, Layers]:
    """One net per seed on the same rows, their logits averaged: side by side in one hidden layer, the output
    layer divided by their number. Which seed one net gets moves its recall at a fixed false-hit rate by more
    than the everyday suite's rows add (docs/benchmarks.md); the average does not depend on one draw."""
    nets = [fit_mlp(x, y, hidden, epochs, seed) for seed in seeds]
    mean, scale = nets[0][0], nets[0][1]  # the same rows standardise the same way for every seed
    first = (np.concatenate([n[2][0][0] for n in nets], axis=1), np.concatenate([n[2][0][1] for n in nets]))
    last = (np.concatenate([n[2][1][0] for n in nets], axis=0) / len(nets), np.mean([n[2][1][1] for n in nets], axis=0))
    return mean, scale, [first, last]


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
