"""Fit the stacked verifier's head: `python -m gateway.cache.train_verifier_stack`.

Neither part of the stack may have trained on the head's data, or the head learns to trust whichever
memorised it: the rows are the candidates a replayed cache sends to the verifier on QQP dev's last
world (held out by the feature verifier and the cross-encoder alike) and on the `tune` half of
semgate's suite (loadtest/data/cache_suite; never the `heldout` half). Each source is replayed as
the cache runs it (every `a` stored, every `b` looked up: its top_k neighbours above the context
floor, guards on, the VERIFY_TOP most similar that pass scored). The head is cross-fitted in
FOLDS (QQP by duplicate group, the suite by domain); its out-of-fold probabilities are Platt-calibrated
and replayed to find, for each target false-hit rate and similarity floor, the lowest threshold that
keeps to the target on every source. The feature verifier alone is replayed the same way beside it.
"""

import argparse
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gateway.cache.coverage import EmbeddingWindow
from gateway.cache.cross_encoder_calibration import platt
from gateway.cache.cross_encoder_verifier import VERIFY_TOP, CrossEncoderVerifier
from gateway.cache.embedder import EmbeddingModel
from gateway.cache.evaluation import DuplicateLinks, Pair, auc, read_pairs
from gateway.cache.qqp_dev import DEV_EMBEDDINGS, QQP, embedded_dev
from gateway.cache.reading import Reading, read, veto
from gateway.cache.verifier import Verifier, VerifierInfo
from gateway.cache.verifier_stack import (
    CROSS_ENCODER_PATH,
    INPUTS,
    STACK_PATH,
    StackHead,
    save_head,
    stack_inputs,
)
from gateway.cache.verifier_world import Candidates, featurise, held_out_world, retrieve

SUITE = Path("loadtest/data/cache_suite/single.jsonl")
FOLDS = 4
FLOORS = (0.70, 0.75, 0.80, 0.85, 0.88, 0.90, 0.93)
TARGETS = ("0.005", "0.01", "0.015", "0.02", "0.04")
GRID = np.round(np.arange(0.02, 1.0001, 0.005), 3)


@dataclass
class Source:
    """The scored candidates of one replayed source, one row per (lookup, candidate)."""

    name: str
    lookup: np.ndarray  # per row
    cosine: np.ndarray
    label: np.ndarray
    feature_logit: np.ndarray
    cross_logit: np.ndarray
    fold: np.ndarray  # per row
    answerable: np.ndarray  # per lookup
    exact: np.ndarray  # per lookup


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.cache.train_verifier_stack", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--qqp", default=str(QQP), help="QQP pairs file; only its dev split's held-out world is read")
    parser.add_argument("--suite", default=str(SUITE), help="the suite's single-turn pairs; only `tune` is read")
    parser.add_argument("--cross-encoder", default=str(CROSS_ENCODER_PATH), help="cross-encoder weights")
    parser.add_argument("--out", default=str(STACK_PATH), help="where the head goes")
    parser.add_argument("--embeddings-cache", default=DEV_EMBEDDINGS)
    parser.add_argument("--world-size", type=int, default=20000, help="as train_verifier's")
    parser.add_argument("--top-k", type=int, default=8)
    parser.add_argument("--low-floor", type=float, default=min(FLOORS), help="lowest similarity scored")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    features, cross, model = Verifier.load(), CrossEncoderVerifier.load(args.cross_encoder), EmbeddingModel()
    embedded = embedded_dev(args.qqp, model, args.embeddings_cache)
    dev, dev_texts, dev_vectors = embedded.pairs, embedded.texts, embedded.vectors
    held = held_out_world(dev, args.world_size)
    links = DuplicateLinks(held)
    qqp = replay(
        "qqp-dev-heldout-world",
        held,
        dev_texts,
        dev_vectors,
        features,
        cross,
        args,
        [zlib.crc32(links.group(p.b).encode()) % FOLDS for p in held],
    )
    tune = read_pairs(args.suite, split="tune")
    tune_texts = sorted({t for p in tune for t in (p.a, p.b)})
    domains = sorted({p.domain or "" for p in tune})  # the suite names every domain
    suite = replay(
        "suite-single-tune",
        tune,
        tune_texts,
        model.encode(tune_texts),
        features,
        cross,
        args,
        [domains.index(p.domain or "") % FOLDS for p in tune],
    )
    sources = [qqp, suite]
    inputs = [stack_inputs(s.feature_logit, s.cross_logit, s.cosine) for s in sources]
    x, y = np.concatenate(inputs), np.concatenate([s.label for s in sources])
    weight = np.concatenate([np.full(len(s.label), 1.0 / len(s.label)) for s in sources]) * len(y) / len(sources)
    fold = np.concatenate([s.fold for s in sources])
    out_of_fold = np.empty(len(y))
    for k in range(FOLDS):
        out_of_fold[fold == k] = fit_head(x[fold != k], y[fold != k], weight[fold != k]).logits(x[fold == k])
    calibration = platt(out_of_fold, y)
    final = fit_head(x, y, weight)
    head = StackHead(final.mean, final.scale, final.coef, final.intercept, calibration)
    calibrated = 1 / (1 + np.exp(-(calibration[0] * out_of_fold + calibration[1])))
    stacked = np.split(calibrated, np.cumsum([len(s.label) for s in sources])[:-1])
    alone = [features.calibrated(s.feature_logit) for s in sources]
    table, baseline = operating_points(sources, stacked), operating_points(sources, alone)
    training = {
        "sources": {
            s.name: {"lookups": len(s.answerable), "rows": len(s.label), "positives": int(s.label.sum()), **aucs(s, p)}
            for s, p in zip(sources, stacked, strict=True)
        },
        "head": {"inputs": list(INPUTS), "coef": head.coef.tolist(), "calibration": list(calibration)},
        "top_k": args.top_k,
        "verify_top": VERIFY_TOP,
        "folds": FOLDS,
        "cross_encoder": cross.info.training,
        "out_of_fold_table": table,
        "feature_verifier_alone_table": baseline,
        "seconds": round(time.perf_counter() - started, 1),
    }
    thresholds = {target: row["threshold"] for target, row in table.items()}
    save_head(args.out, head, VerifierInfo(INPUTS, thresholds, training))
    for name, row in training["sources"].items():
        _log(f"{name}: {row}")
    for label, rows in (("stacked", table), ("feature verifier alone", baseline)):
        for target, row in rows.items():
            _log(
                f"{label} <= {target}: floor {row['floor']:.2f} p >= {row['threshold']:.3f} "
                + "  ".join(
                    f"{n}: recall {r['recall']:.3f} fhr {r['false_hit_rate']:.4f}" for n, r in row["by_source"].items()
                )
            )
    _log(f"saved {args.out} after {training['seconds']:.0f} s")
    return 0


def replay(
    name: str,
    pairs: list[Pair],
    texts: list[str],
    vectors: np.ndarray,
    features: Verifier,
    cross: CrossEncoderVerifier,
    args: argparse.Namespace,
    folds: list[int],
) -> Source:
    """Store every `a`, look up every `b` as the cache does; score what reaches the verifier."""
    rows = retrieve(pairs, texts, vectors, args.top_k, len(pairs))
    window = EmbeddingWindow.bundled()
    readings: dict[int, Reading] = {}
    from policies.schema import GuardPolicy

    guards = GuardPolicy()

    def reading(i: int) -> Reading:
        return readings.get(i) or readings.setdefault(i, read(texts[i], window))

    picked: list[int] = []
    taken: dict[int, int] = {}
    for r in np.argsort(-rows.similarity, kind="stable"):  # most similar first within each lookup
        lookup = int(rows.lookup[r])
        if rows.similarity[r] < args.low_floor or taken.get(lookup, 0) >= VERIFY_TOP:
            continue
        if veto(reading(int(rows.query[r])), reading(int(rows.cand[r])), guards) is None:
            picked.append(int(r))
            taken[lookup] = taken.get(lookup, 0) + 1
    chosen = np.asarray(sorted(picked), dtype=np.int64)
    _log(f"{name}: {len(rows.answerable)} lookups, {len(chosen)} candidates reach the verifier; scoring them")
    subset = _take(rows, chosen)
    feature_logit = features.raw_logits(featurise(subset, texts, features.idf))
    cross_logit = cross.raw_logits(
        [(texts[int(q)], texts[int(c)]) for q, c in zip(subset.query, subset.cand, strict=True)]
    )
    return Source(
        name,
        subset.lookup,
        subset.similarity.astype(np.float32),
        subset.label,
        feature_logit,
        cross_logit,
        np.asarray(folds)[subset.lookup],
        rows.answerable,
        rows.exact,
    )


def fit_head(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> StackHead:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    model = LogisticRegression(C=1.0).fit((x - mean) / scale, y, sample_weight=weight)
    return StackHead(
        mean.astype(np.float32),
        scale.astype(np.float32),
        model.coef_[0].astype(np.float32),
        float(model.intercept_[0]),
        (1.0, 0.0),
    )


def aucs(source: Source, stacked: np.ndarray) -> dict[str, float]:
    return {
        f"auc_{n}": round(auc(np.asarray(v, dtype=np.float64), source.label), 4)
        for n, v in (
            ("cosine", source.cosine),
            ("feature", source.feature_logit),
            ("cross", source.cross_logit),
            ("stacked_out_of_fold", stacked),
        )
    }


def operating_points(sources: list[Source], probabilities: list[np.ndarray]) -> dict[str, dict]:
    """target -> the (floor, threshold) with the most mean recall whose false-hit rate keeps to the target on
    every source, replayed as the cache decides (exact repeats hit; else the best scored candidate at or above
    the floor hits when its probability reaches the threshold)."""
    sweeps = {floor: [sweep(s, p, floor) for s, p in zip(sources, probabilities, strict=True)] for floor in FLOORS}
    table = {}
    for target in TARGETS:
        best: dict[str, Any] | None = None
        for floor, per_source in sweeps.items():
            keeps = np.all([fhr <= float(target) for _, fhr in per_source], axis=0)
            if not keeps.any():
                continue
            i = int(np.argmax(keeps))  # the lowest threshold that keeps to the target: this floor's most recall
            recall = float(np.mean([r[i] for r, _ in per_source]))
            if best is None or recall > best["mean_recall"]:
                best = {
                    "floor": floor,
                    "threshold": float(GRID[i]),
                    "mean_recall": round(recall, 4),
                    "by_source": {
                        s.name: {"recall": round(float(r[i]), 4), "false_hit_rate": round(float(f[i]), 4)}
                        for s, (r, f) in zip(sources, per_source, strict=True)
                    },
                }
        table[target] = best or {"floor": max(FLOORS), "threshold": 1.0, "mean_recall": 0.0, "by_source": {}}
    return table


def sweep(source: Source, probability: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """(recall, false-hit rate) at each threshold of GRID, counted as `semgate bench cache-quality` does."""
    lookups = len(source.answerable)
    best, right = np.full(lookups, -1.0), np.zeros(lookups, dtype=bool)
    keep = source.cosine >= floor
    for r in np.flatnonzero(keep)[np.argsort(probability[keep], kind="stable")]:  # the highest written last
        best[source.lookup[r]], right[source.lookup[r]] = probability[r], bool(source.label[r])
    hits = source.exact[None, :] | (best[None, :] >= GRID[:, None])
    correct = source.exact[None, :] | (hits & right[None, :])
    answerable, should_miss = max(int(source.answerable.sum()), 1), max(int((~source.answerable).sum()), 1)
    return correct.sum(axis=1) / answerable, (hits & ~correct).sum(axis=1) / should_miss


def _take(rows: Candidates, chosen: np.ndarray) -> Candidates:
    from dataclasses import replace

    return replace(
        rows,
        query=rows.query[chosen],
        cand=rows.cand[chosen],
        similarity=rows.similarity[chosen],
        context=rows.context[chosen],
        label=rows.label[chosen],
        lookup=rows.lookup[chosen],
    )


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
