"""Experiment record (issue #23, docs/benchmarks.md "The verifier and the tune half, cross-validated"): not part of
the product. Cross-validation inside the suite's tune half: QQP dev's candidates and the suite folds' candidates are
featurised once (artifacts/verifier/cv/features.pkl), then each candidate is trained in seconds.

    PYTHONPATH=$PWD python docs/benchmarks/verifier-cv/cv_train.py SPEC...

SPEC: `FOLD:WEIGHT:HIDDEN[:EPOCHS[:SEED]]` trains as `python -m gateway.cache.train_verifier --suite ...
--suite-domains FOLD's --suite-weight WEIGHT --hidden HIDDEN` does (same functions, same result at the same seed);
`RFOLD:WEIGHT:HIDDEN:EPOCHS:SEED:WD:LR` a residual head (the shipped net frozen: the one shipped before, from
`git show 54de177:gateway/cache/verifier_weights.npz`, for these figures; a second net trained on QQP's
training rows and the suite rows with the shipped logit as offset, both folded into one 2-layer net);
`NFOLD:ANCHOR:HIDDEN:STEPS:SEED:LR` an anchored head (the second net trained on the suite rows only, its output
held near 0 on QQP's training rows by ANCHOR * mean(output^2)); `ENAME=FILE,FILE,...` averages nets of one
fold (as `train_verifier --ensemble` does); a path to a .npz scores existing weights.
FOLD: A (banking, travel, software, insurance), B (shopping, telecom, cooking, pets) or ALL (the 8 tune domains).
Each prints QQP dev's held-out world AUC and recall at 1.5% false hits (the trainer's table) and saves the weights
under artifacts/verifier/cv/, which `semgate bench cache-quality --suite single --split tune --domains OTHER-FOLD
--verifier-weights FILE` then measures through the cache.
"""
import json, sys, time, pickle
from pathlib import Path
import numpy as np
from gateway.cache.embedder import EmbeddingModel
from gateway.cache.qqp_dev import embedded_dev
from gateway.cache.train_verifier import fit_mlp, platt, threshold_table
from gateway.cache.verifier import Verifier, VerifierInfo
from gateway.cache.verifier_features import FEATURES
from gateway.cache.verifier_suite_rows import suite_rows
from gateway.cache.verifier_world import featurise, hashed_idf, retrieve
from gateway.cache.evaluation import auc

OUT = Path("artifacts/verifier/cv")
FOLDS = {"A": "banking,travel,software,insurance", "B": "shopping,telecom,cooking,pets",
         "ALL": None}
SUITE = Path("loadtest/data/cache_suite/single.jsonl")

def prepared():
    cache = OUT / "features.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    model = EmbeddingModel()
    dev = embedded_dev("../shared/evaldata/qqp_pairs.jsonl.gz", model, "artifacts/verifier/dev_embeddings.npz")
    idf = hashed_idf(dev.texts)
    rows = retrieve(dev.pairs, dev.texts, dev.vectors, 8, 20000)
    features = featurise(rows, dev.texts, idf)
    suites = {}
    for name, doms in FOLDS.items():
        s = suite_rows(SUITE, model, idf, 8, frozenset(doms.split(",")) if doms else None)
        suites[name] = (s.features, s.labels, s.pairs)
    data = dict(rows=rows, features=features, idf=idf, texts=dev.texts, suites=suites)
    cache.write_bytes(pickle.dumps(data))
    return data

def train(data, fold, weight, hidden, epochs=30, seed=0):
    rows, features = data["rows"], data["features"]
    train = ~rows.held_out[rows.lookup]
    x, y = features[train], rows.label[train]
    if weight:
        sf, sl, _ = data["suites"][fold]
        x = np.concatenate([x, *[sf] * weight]); y = np.concatenate([y, *[sl] * weight])
    t = time.perf_counter()
    mean, scale, layers = fit_mlp(x, y, hidden, epochs, seed)
    unc = Verifier(mean, scale, layers, (1.0, 0.0), data["idf"], VerifierInfo(FEATURES, {}, {}))
    cal = platt(unc.raw_logits(features[~train]), rows.label[~train])
    probs = Verifier(mean, scale, layers, cal, data["idf"], VerifierInfo(FEATURES, {}, {})).predict(features)
    table = threshold_table(rows, probs, data["texts"])
    a = auc(probs[~train], rows.label[~train])
    name = f"{fold}_w{weight}_h{hidden}_e{epochs}_s{seed}"
    info = {"cv": name, "held_out_auc": a, "held_out_at_threshold": table}
    Verifier(mean, scale, layers, cal, data["idf"], VerifierInfo(FEATURES, {k: r["threshold"] for k, r in table.items()}, info)).save(OUT / f"{name}.npz")
    r = table["0.015"]
    line = f"{name}: AUC {a:.4f} at1.5% p>={r['threshold']:.3f} recall {r['recall']:.4f} fhr {r['false_hit_rate']:.4f}  ({time.perf_counter()-t:.0f}s)"
    print(line, flush=True)
    with open(OUT / "train_results.txt", "a") as f:
        f.write(line + "\n")

def score_existing(data, path):
    rows, features = data["rows"], data["features"]
    train = ~rows.held_out[rows.lookup]
    v = Verifier.load(path)
    probs = v.predict(features)
    table = threshold_table(rows, probs, data["texts"])
    r = table["0.015"]; r1 = table["0.01"]
    line = (f"{path}: AUC {auc(probs[~train], rows.label[~train]):.4f} at1.5% p>={r['threshold']:.3f} recall {r['recall']:.4f}"
            f" fhr {r['false_hit_rate']:.4f}; at1% p>={r1['threshold']:.3f} recall {r1['recall']:.4f}")
    print(line, flush=True)
    with open(OUT / "train_results.txt", "a") as f:
        f.write(line + "\n")


def train_residual(data, fold, weight, hidden, epochs, seed, base_path="gateway/cache/verifier_weights.npz", wd=1e-3, lr=2e-3):
    """A second net learns a correction on top of the frozen base; both fold into one 2-layer MLP."""
    import torch
    rows, features = data["rows"], data["features"]
    train = ~rows.held_out[rows.lookup]
    sf, sl, _ = data["suites"][fold]
    x = np.concatenate([features[train], *[sf] * weight]); y = np.concatenate([rows.label[train], *[sl] * weight])
    base = Verifier.load(base_path)
    offset = base.raw_logits(x.astype(np.float32))
    t = time.perf_counter()
    torch.manual_seed(seed)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    xs = torch.from_numpy(((x - mean) / scale).astype(np.float32)); ys = torch.from_numpy(y.astype(np.float32))
    off = torch.from_numpy(offset.astype(np.float32))
    first, last = torch.nn.Linear(x.shape[1], hidden), torch.nn.Linear(hidden, 1)
    torch.nn.init.zeros_(last.weight); torch.nn.init.zeros_(last.bias)
    net = torch.nn.Sequential(first, torch.nn.ReLU(), last)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=wd)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for b in torch.randperm(len(xs), generator=g).split(256):
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(off[b] + net(xs[b])[:, 0], ys[b])
            loss.backward(); opt.step()
    (w1b, b1b), (w2b, b2b) = base._layers
    mb, sb = base._mean.astype(np.float64), base._scale.astype(np.float64)
    w1b2 = (scale / sb)[:, None] * w1b
    b1b2 = b1b + ((mean - mb) / sb) @ w1b
    w1r = first.weight.detach().numpy().T; b1r = first.bias.detach().numpy()
    w2r = last.weight.detach().numpy().T; b2r = last.bias.detach().numpy()
    layers = [(np.concatenate([w1b2, w1r], axis=1), np.concatenate([b1b2, b1r])),
              (np.concatenate([w2b, w2r], axis=0), b2b + b2r)]
    unc = Verifier(mean, scale, layers, (1.0, 0.0), data["idf"], VerifierInfo(FEATURES, {}, {}))
    # sanity: the folded net equals base + residual
    chk = unc.raw_logits(x[:1000].astype(np.float32)) - (offset[:1000] + net(xs[:1000])[:, 0].detach().numpy())
    assert np.abs(chk).max() < 1e-2, np.abs(chk).max()
    cal = platt(unc.raw_logits(features[~train]), rows.label[~train])
    probs = Verifier(mean, scale, layers, cal, data["idf"], VerifierInfo(FEATURES, {}, {})).predict(features)
    table = threshold_table(rows, probs, data["texts"])
    a = auc(probs[~train], rows.label[~train])
    name = f"R{fold}_w{weight}_h{hidden}_e{epochs}_s{seed}_wd{wd}_lr{lr}"
    info = {"cv": name, "held_out_auc": a, "held_out_at_threshold": table}
    Verifier(mean, scale, layers, cal, data["idf"], VerifierInfo(FEATURES, {k: r["threshold"] for k, r in table.items()}, info)).save(OUT / f"{name}.npz")
    r = table["0.015"]
    line = f"{name}: AUC {a:.4f} at1.5% p>={r['threshold']:.3f} recall {r['recall']:.4f} fhr {r['false_hit_rate']:.4f}  ({time.perf_counter()-t:.0f}s)"
    print(line, flush=True)
    with open(OUT / "train_results.txt", "a") as f:
        f.write(line + "\n")


def train_anchored(data, fold, anchor, hidden, steps, seed, base_path="gateway/cache/verifier_weights.npz", lr=2e-3):
    """A correction net learns the suite on top of the frozen base, held near 0 on QQP's training rows."""
    import torch
    rows, features = data["rows"], data["features"]
    train = ~rows.held_out[rows.lookup]
    sf, sl, _ = data["suites"][fold]
    xq = features[train]
    base = Verifier.load(base_path)
    allx = np.concatenate([xq, sf])
    mean, scale = allx.mean(axis=0), allx.std(axis=0) + 1e-6
    t = time.perf_counter()
    torch.manual_seed(seed)
    tq = torch.from_numpy(((xq - mean) / scale).astype(np.float32))
    ts = torch.from_numpy(((sf - mean) / scale).astype(np.float32)); ys = torch.from_numpy(sl.astype(np.float32))
    offs = torch.from_numpy(base.raw_logits(sf.astype(np.float32)).astype(np.float32))
    first, last = torch.nn.Linear(xq.shape[1], hidden), torch.nn.Linear(hidden, 1)
    torch.nn.init.zeros_(last.weight); torch.nn.init.zeros_(last.bias)
    net = torch.nn.Sequential(first, torch.nn.ReLU(), last)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        b = torch.randint(0, len(ts), (64,), generator=g); q = torch.randint(0, len(tq), (512,), generator=g)
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(offs[b] + net(ts[b])[:, 0], ys[b])
        loss = loss + anchor * net(tq[q])[:, 0].pow(2).mean()
        loss.backward(); opt.step()
    (w1b, b1b), (w2b, b2b) = base._layers
    mb, sb = base._mean.astype(np.float64), base._scale.astype(np.float64)
    layers = [(np.concatenate([(scale / sb)[:, None] * w1b, first.weight.detach().numpy().T], axis=1),
               np.concatenate([b1b + ((mean - mb) / sb) @ w1b, first.bias.detach().numpy()])),
              (np.concatenate([w2b, last.weight.detach().numpy().T], axis=0), b2b + last.bias.detach().numpy())]
    unc = Verifier(mean, scale, layers, (1.0, 0.0), data["idf"], VerifierInfo(FEATURES, {}, {}))
    chk = unc.raw_logits(sf[:500].astype(np.float32)) - (offs[:500] + net(ts[:500])[:, 0]).detach().numpy()
    assert np.abs(chk).max() < 1e-2, np.abs(chk).max()
    cal = platt(unc.raw_logits(features[~train]), rows.label[~train])
    probs = Verifier(mean, scale, layers, cal, data["idf"], VerifierInfo(FEATURES, {}, {})).predict(features)
    table = threshold_table(rows, probs, data["texts"])
    a = auc(probs[~train], rows.label[~train])
    name = f"N{fold}_a{anchor}_h{hidden}_st{steps}_s{seed}_lr{lr}"
    info = {"cv": name, "held_out_auc": a, "held_out_at_threshold": table}
    Verifier(mean, scale, layers, cal, data["idf"], VerifierInfo(FEATURES, {k: r["threshold"] for k, r in table.items()}, info)).save(OUT / f"{name}.npz")
    r = table["0.015"]
    line = f"{name}: AUC {a:.4f} at1.5% p>={r['threshold']:.3f} recall {r['recall']:.4f} fhr {r['false_hit_rate']:.4f}  ({time.perf_counter()-t:.0f}s)"
    print(line, flush=True)
    with open(OUT / "train_results.txt", "a") as f:
        f.write(line + "\n")


def ensemble(data, name, paths):
    """Nets trained on the same rows with different seeds, averaged in logit space: one wider 2-layer net."""
    rows, features = data["rows"], data["features"]
    train = ~rows.held_out[rows.lookup]
    nets = [Verifier.load(p) for p in paths]
    mean, scale = nets[0]._mean, nets[0]._scale
    for n in nets:
        assert np.allclose(n._mean, mean) and np.allclose(n._scale, scale)
    k = len(nets)
    layers = [(np.concatenate([n._layers[0][0] for n in nets], axis=1), np.concatenate([n._layers[0][1] for n in nets])),
              (np.concatenate([n._layers[1][0] for n in nets], axis=0) / k, sum(n._layers[1][1] for n in nets) / k)]
    unc = Verifier(mean, scale, layers, (1.0, 0.0), data["idf"], VerifierInfo(FEATURES, {}, {}))
    cal = platt(unc.raw_logits(features[~train]), rows.label[~train])
    probs = Verifier(mean, scale, layers, cal, data["idf"], VerifierInfo(FEATURES, {}, {})).predict(features)
    table = threshold_table(rows, probs, data["texts"])
    a = auc(probs[~train], rows.label[~train])
    info = {"cv": name, "members": [str(p) for p in paths], "held_out_auc": a, "held_out_at_threshold": table}
    Verifier(mean, scale, layers, cal, data["idf"], VerifierInfo(FEATURES, {k_: r["threshold"] for k_, r in table.items()}, info)).save(OUT / f"{name}.npz")
    r = table["0.015"]
    line = f"{name}: AUC {a:.4f} at1.5% p>={r['threshold']:.3f} recall {r['recall']:.4f} fhr {r['false_hit_rate']:.4f}"
    print(line, flush=True)
    with open(OUT / "train_results.txt", "a") as f:
        f.write(line + "\n")

if __name__ == "__main__":
    data = prepared()
    for spec in sys.argv[1:]:
        if spec.startswith("E"):  # Ename=path,path,...
            name, paths = spec[1:].split("=")
            ensemble(data, name, paths.split(",")); continue
        if spec.endswith(".npz"):
            score_existing(data, spec); continue
        if spec.startswith("N"):
            f_, a_, h_, st_, s_, lr_ = spec[1:].split(":")
            train_anchored(data, f_, float(a_), int(h_), int(st_), int(s_), lr=float(lr_)); continue
        if spec.startswith("R"):
            f_, w_, h_, e_, s_, wd_, lr_ = spec[1:].split(":")
            train_residual(data, f_, int(w_), int(h_), int(e_), int(s_), wd=float(wd_), lr=float(lr_)); continue
        fold, w, h = spec.split(":")[:3]
        parts = spec.split(":")
        e = int(parts[3]) if len(parts) > 3 else 30
        seed = int(parts[4]) if len(parts) > 4 else 0
        train(data, fold, int(w), int(h), e, seed)
