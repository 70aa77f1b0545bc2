"""Experiment record (docs/benchmarks.md, "All six layers"): the feature verifier with a cross-encoder veto.

A hit needs the feature verifier's probability at the threshold and the cross-encoder's calibrated
probability at or above v. Tune side only: QQP dev's held-out world and the suite's `tune` half, replayed as
`python -m gateway.cache.train_verifier_stack` replays them; prints the best (floor, threshold) per target
false-hit rate for each v, and the shipped policy point (floor 0.90, p >= 0.77). Not product code.

    python docs/benchmarks/cross-encoder-veto/veto.py gateway/cache/cross_encoder_weights.npz artifacts/ce6/run1.npz
"""
import argparse, sys, zlib, json
import numpy as np
from gateway.cache import train_verifier_stack as T
from gateway.cache.cross_encoder_verifier import CrossEncoderVerifier
from gateway.cache.embedder import EmbeddingModel
from gateway.cache.evaluation import DuplicateLinks, read_pairs
from gateway.cache.qqp_dev import embedded_dev
from gateway.cache.verifier import Verifier
from gateway.cache.verifier_world import held_out_world

ces = sys.argv[1:]
args = argparse.Namespace(top_k=8, low_floor=0.70, world_size=20000)
features, model = Verifier.load(), EmbeddingModel()
emb = embedded_dev("../shared/evaldata/qqp_pairs.jsonl.gz", model, "artifacts/verifier/dev_embeddings.npz")
held = held_out_world(emb.pairs, 20000)
links = DuplicateLinks(held)
tune = read_pairs(T.SUITE, split="tune")
tt = sorted({t for p in tune for t in (p.a, p.b)})
tv = model.encode(tt)
for path in ces:
    cross = CrossEncoderVerifier.load(path)
    q = T.replay("qqp", held, emb.texts, emb.vectors, features, cross, args, [zlib.crc32(links.group(p.b).encode()) % 4 for p in held])
    s = T.replay("suite", tune, tt, tv, features, cross, args, [0] * len(tune))
    sl, ic = cross.info.calibration
    print(path, flush=True)
    for v in (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5):
        probs = []
        for src in (q, s):
            fp = features.calibrated(src.feature_logit)
            cp = 1 / (1 + np.exp(-(sl * src.cross_logit + ic)))
            probs.append(np.where(cp >= v, fp, 0.0))
        table = T.operating_points([q, s], probs)
        print(f"  veto below {v:.2f}: " + "  ".join(
            f"<={t}: fl {r['floor']:.2f} p>={r['threshold']:.3f} " + " ".join(f"{n} {x['recall']:.3f}/{x['false_hit_rate']:.4f}" for n, x in r['by_source'].items())
            for t, r in table.items() if t in ("0.01", "0.015", "0.02")), flush=True)
    # and at the shipped policy point: floor 0.90, p >= 0.77
    for v in (0.0, 0.1, 0.2, 0.3, 0.5):
        out = []
        for src in (q, s):
            fp = features.calibrated(src.feature_logit)
            cp = 1 / (1 + np.exp(-(sl * src.cross_logit + ic)))
            p = np.where(cp >= v, fp, 0.0)
            r, f = T.sweep(src, p, 0.90)
            i = int(np.argmin(np.abs(T.GRID - 0.77)))
            out.append(f"{src.name} recall {r[i]:.3f} fhr {f[i]:.4f}")
        print(f"  shipped point (0.90/0.77), veto below {v:.2f}: " + "  ".join(out), flush=True)
