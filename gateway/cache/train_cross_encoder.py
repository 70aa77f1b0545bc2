"""Train the cross-encoder verifier: `python -m gateway.cache.train_cross_encoder`.

Fine-tunes the cross-encoder (gateway/cache/cross_encoder.py) on pairs from QQP `dev` only (its own
labelled pairs, the neighbours a replayed cache retrieves, and generated traps and harmless rewrites;
gateway/cache/cross_encoder_dataset.py), then builds the int8 ONNX graph it runs as and calibrates
that graph on the held-out families (gateway/cache/cross_encoder_calibration.py). Writes the weights
with the calibration and the "target false-hit rate -> threshold" table.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gateway.cache.cross_encoder import (
    MAX_TOKENS,
    PairTokenizer,
    SavedWeights,
    pair_classifier,
    trainable_tensors,
    trained_classifier,
)
from gateway.cache.cross_encoder_calibration import (
    by_kind,
    platt,
    threshold_table,
    verified_candidates,
)
from gateway.cache.cross_encoder_dataset import Dataset, Labelled, build, kind_counts
from gateway.cache.cross_encoder_verifier import (
    CANDIDATE_FLOOR,
    VERIFY_TOP,
    WEIGHTS_PATH,
    CrossEncoderVerifier,
)
from gateway.cache.embedder import EmbeddingModel
from gateway.cache.evaluation import auc
from gateway.cache.minilm import INPUTS
from gateway.cache.qqp_dev import add_dev_arguments, embedded_dev

if TYPE_CHECKING:
    import torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.cache.train_cross_encoder", description=__doc__.split("\n\n")[0]
    )
    add_dev_arguments(parser, WEIGHTS_PATH)
    parser.add_argument("--limit", type=int, help="read only this many dev pairs (a quick trial run)")
    parser.add_argument(
        "--world-size", type=int, default=20000, help="pairs per replayed cache (the test split's size)"
    )
    parser.add_argument("--top-k", type=int, default=8, help="neighbours retrieved per lookup (as the cache does)")
    parser.add_argument(
        "--retrieve-floor", type=float, default=CANDIDATE_FLOOR, help="lowest cosine of a retrieved training pair"
    )
    parser.add_argument(
        "--floor",
        type=float,
        default=0.8,
        help="similarity floor the thresholds are measured at (a category's floor should not be lower)",
    )
    parser.add_argument("--layers", type=int, default=2, help="MiniLM layers kept")
    parser.add_argument("--max-tokens", type=int, default=MAX_TOKENS)
    parser.add_argument("--qqp-pairs", type=int, default=3500, help="QQP labelled pairs trained on")
    parser.add_argument("--retrieved", type=int, default=4500, help="retrieved (query, neighbour) pairs trained on")
    parser.add_argument(
        "--generated", type=int, default=2500, help="QQP questions rewritten into a trap and a harmless rewording"
    )
    parser.add_argument("--everyday-rounds", type=int, default=4, help="rewrite rounds over the everyday questions")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (one wastes least on a busy machine)")
    parser.add_argument(
        "--budget-minutes",
        type=float,
        help="stop training after this long (a busy machine) and calibrate what was learned",
    )
    parser.add_argument(
        "--init", type=Path, help="continue from these saved weights (same --layers) instead of the bundled MiniLM's"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    import torch

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    dev = embedded_dev(args.qqp, EmbeddingModel(), args.embeddings_cache, limit=args.limit)
    pairs, texts = dev.pairs, dev.texts
    vectors = dict(zip(texts, dev.vectors, strict=True))
    sizes = {
        "qqp": args.qqp_pairs,
        "retrieved": args.retrieved,
        "generated": args.generated,
        "everyday_rounds": args.everyday_rounds,
    }
    data = build(pairs, vectors, args.world_size, args.top_k, args.retrieve_floor, sizes, args.seed)
    _log(
        f"{len(pairs)} dev pairs -> {len(data.train)} training pairs, {len(data.calibration)} held-out pairs, "
        f"{len(data.lookups)} held-out lookups; training pairs by (kind, label): {dict(kind_counts(data.train))}"
    )
    tokenizer = PairTokenizer(args.max_tokens)
    start = trained_classifier(SavedWeights.load(args.init)).train() if args.init else pair_classifier(args.layers)
    model, steps = fit(start, tokenizer, data.train, args)
    with tempfile.TemporaryDirectory() as tmp:
        draft = SavedWeights(args.layers, args.max_tokens, trainable_tensors(model), (1.0, 0.0), {}, {})
        draft.save(Path(tmp) / "draft.npz")
        verifier = CrossEncoderVerifier.load(Path(tmp) / "draft.npz", cache_dir=Path(tmp))  # the int8 graph
    if verifier.backend != "onnx":
        # The training is the expensive part (tens of minutes): keep it, so `--init` can go on from it.
        kept = Path(args.out).with_suffix(".uncalibrated.npz")
        kept.parent.mkdir(parents=True, exist_ok=True)
        draft.save(kept)
        raise SystemExit(
            f"the int8 ONNX graph could not be built: nothing calibrated; the trained weights are in {kept} "
            "(uncalibrated: continue with --init, or load them with backend='torch')"
        )
    calibration, table, measured = calibrate(verifier, data, args.floor)
    training = {
        "source": "QQP dev only; held out: its last world and one in five everyday questions",
        "dev_pairs": len(pairs),
        "train_pairs": len(data.train),
        "layers": args.layers,
        "max_tokens": args.max_tokens,
        "init": str(args.init) if args.init else "bundled MiniLM",
        "epochs": args.epochs,
        "steps": steps,
        "batch": args.batch,
        "lr": args.lr,
        "seed": args.seed,
        "world_size": args.world_size,
        "top_k": args.top_k,
        "floor": args.floor,
        "verify_top": VERIFY_TOP,
        "train_kinds": {f"{k}/{label}": n for (k, label), n in sorted(kind_counts(data.train).items())},
        **measured,
        "held_out_at_threshold": table,
        "seconds": round(time.perf_counter() - started, 1),
    }
    thresholds = {target: row["threshold"] for target, row in table.items()}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    saved = SavedWeights(args.layers, args.max_tokens, trainable_tensors(model), calibration, thresholds, training)
    saved.save(args.out)
    _log(
        f"held-out candidate AUC {training['held_out_candidate_auc']:.4f} (cosine alone "
        f"{training['held_out_candidate_cosine_auc']:.4f}); thresholds by target false-hit rate (floor {args.floor}):"
    )
    for target, row in table.items():
        _log(
            f"  <= {target}: p >= {row['threshold']:.3f}  recall {row['recall']:.3f}  "
            f"false_hit_rate {row['false_hit_rate']:.4f}  precision {row['precision']:.3f}"
        )
    for kind, row in training["held_out_pairs_by_kind_at_0.015"].items():
        _log(
            f"  held-out {kind:<10} {row['pairs']:>6} pairs ({row['should_hit']} should hit): "
            f"accuracy {row['accuracy']:.3f}"
        )
    _log(f"saved {args.out} after {training['seconds']:.0f} s")
    return 0


def calibrate(verifier: CrossEncoderVerifier, data: Dataset, floor: float) -> tuple[tuple[float, float], dict, dict]:
    """Platt scaling and the threshold table on the held-out world, scored by the int8 graph; with the
    held-out AUCs and the per-kind accuracy of the held-out pairs at the 1.5% threshold."""
    chosen = verified_candidates(data.lookups, floor, VERIFY_TOP)
    scored = sorted(
        {(lookup.query, text) for lookup, cands in zip(data.lookups, chosen, strict=True) for text, _ in cands}
    )
    _log(f"scoring {len(scored)} held-out candidates and {len(data.calibration)} held-out pairs with the int8 graph")
    logit = dict(zip(scored, verifier.raw_logits(scored).tolist(), strict=True))
    labels = {
        (lookup.query, text): right for lookup, cands in zip(data.lookups, chosen, strict=True) for text, right in cands
    }
    similarity = {(lookup.query, text): s for lookup in data.lookups for text, s, _ in lookup.candidates}
    x, y = np.asarray([logit[k] for k in scored]), np.asarray([labels[k] for k in scored], dtype=int)
    slope, intercept = platt(x, y)
    table = threshold_table(data.lookups, chosen, lambda q, c: 1 / (1 + np.exp(-(slope * logit[(q, c)] + intercept))))
    held = 1 / (1 + np.exp(-(slope * verifier.raw_logits([(p.a, p.b) for p in data.calibration]) + intercept)))
    measured = {
        "held_out_candidate_auc": auc(x, y),
        "held_out_candidate_cosine_auc": auc(np.asarray([similarity[k] for k in scored]), y),
        "held_out_pairs_by_kind_at_0.015": by_kind(data.calibration, held, table["0.015"]["threshold"]),
    }
    return (slope, intercept), table, measured


def fit(
    model: "torch.nn.Module", tokenizer: PairTokenizer, pairs: list[Labelled], args: argparse.Namespace
) -> "tuple[torch.nn.Module, int]":
    """AdamW on the log loss, linear warm-up then decay; batches of similar length (less padding).
    Returns the model and the steps it took."""
    import torch

    rng = np.random.default_rng(args.seed)
    encoded = [tokenizer([(p.a, p.b)]) for p in pairs]
    lengths = np.asarray([e["input_ids"].shape[1] for e in encoded])
    labels = torch.tensor([float(p.label) for p in pairs])
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = args.epochs * -(-len(pairs) // args.batch)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    model.train()
    step, loss_sum, since, started = 0, 0.0, 0, time.perf_counter()
    deadline = started + 60 * args.budget_minutes if args.budget_minutes else float("inf")
    for epoch in range(args.epochs):
        for batch in _length_batches(lengths, args.batch, rng):
            if time.perf_counter() > deadline:
                _log(f"time budget spent after {step} of {steps} steps: stopping there")
                return model.eval(), step
            inputs = _collate([encoded[i] for i in batch])
            logits = model(*(torch.from_numpy(inputs[k]) for k in INPUTS))
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels[batch])
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            step, loss_sum, since = step + 1, loss_sum + loss.item(), since + 1
            if step % 100 == 0 or step == steps:
                elapsed = time.perf_counter() - started
                _log(
                    f"epoch {epoch + 1} step {step}/{steps} loss {loss_sum / since:.4f} "
                    f"{elapsed:.0f} s, about {elapsed / step * (steps - step):.0f} s to go"
                )
                loss_sum, since = 0.0, 0
    return model.eval(), step


def _length_batches(lengths: np.ndarray, size: int, rng: np.random.Generator) -> list[np.ndarray]:
    order = rng.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), size * 50):  # sort within windows of 50 batches, then shuffle the batches
        window = order[start : start + size * 50]
        window = window[np.argsort(lengths[window], kind="stable")]
        batches += [window[i : i + size] for i in range(0, len(window), size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _collate(encoded: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    width = max(e["input_ids"].shape[1] for e in encoded)
    return {k: np.stack([np.pad(e[k][0], (0, width - e[k].shape[1])) for e in encoded]) for k in INPUTS}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
