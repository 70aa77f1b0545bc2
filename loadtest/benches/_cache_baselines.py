"""Baselines for `semgate bench cache-quality`: raw MiniLM top-1 and GPTCache, judged like semgate."""

import atexit
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from gateway.cache.evaluation import DuplicateLinks, Outcome, Pair, summarise  # noqa: E402

RAW_SWEEP = [round(float(x), 4) for x in np.arange(0.80, 1.00001, 0.0025)]
GPTCACHE_THRESHOLD = 0.8  # its Config default; with SearchDistanceEvaluation that means cosine >= 0.6


def raw_minilm(pairs: list[Pair], stored: list[Pair], vectors: dict, links: DuplicateLinks,
               answerable_keys: set, categories: list[str]) -> dict:
    """MiniLM embeddings, the single nearest stored question over everything, a cosine threshold; nothing else."""
    matrix = np.stack([vectors[p.a] for p in stored])
    best_cos, correct = np.empty(len(pairs), np.float32), np.zeros(len(pairs), bool)
    for start in range(0, len(pairs), 1024):
        chunk = pairs[start : start + 1024]
        sims = np.stack([vectors[p.b] for p in chunk]) @ matrix.T
        top = sims.argmax(axis=1)
        for i, (p, j) in enumerate(zip(chunk, top)):
            best_cos[start + i] = sims[i, j]
            correct[start + i] = _same_context(stored[j], p) and links.linked(p.b, stored[j].a)
    answerable = [(links.group(p.b), _context(p.context_b)) in answerable_keys for p in pairs]

    def outcomes(threshold: float) -> list[Outcome]:
        return [Outcome(c, a, bool(s >= threshold), bool(s >= threshold and k))
                for c, a, s, k in zip(categories, answerable, best_cos, correct)]

    sweep = [{"threshold": t, **summarise(outcomes(t))} for t in RAW_SWEEP]
    return {"description": "all-MiniLM-L6-v2, top-1 cosine over all stored questions, no fingerprint/guards/verifier",
            "sweep": sweep, "_outcomes": outcomes}


def at_same_false_hit_rate(sweep: list[dict], false_hit_rate: float) -> dict | None:
    """The sweep point with the most recall whose false-hit rate is no higher than `false_hit_rate`."""
    allowed = [row for row in sweep if row["false_hit_rate"] <= false_hit_rate + 1e-12]
    return max(allowed, key=lambda row: (row["recall"], -row["threshold"])) if allowed else None


def by_category(outcomes: list[Outcome]) -> dict:
    return {name: summarise(o for o in outcomes if o.category == name) for name in sorted({o.category for o in outcomes})}


def gptcache(pairs: list[Pair], stored: list[Pair], vectors: dict, links: DuplicateLinks, answerable_keys: set,
             categories: list[str], progress: bool, max_size: int | None = None) -> dict:
    """GPTCache as its README configures a similar-search cache, with the same MiniLM vectors.

    Configured as its README does: the "sqlite,faiss" data manager (exact L2 search, top-1),
    SearchDistanceEvaluation, the default similarity_threshold 0.8 (cosine 0.6 for unit
    vectors), pre_embedding_func=get_prompt, and its default max_size of 1,000 entries (LRU)
    unless `max_size` is given. Embeddings come precomputed from the same all-MiniLM-L6-v2
    weights instead of one model call per put/get. (Its hnswlib vector store is not used: it
    returns numpy ids that its SQL store never finds, so every lookup misses.)
    """
    missing = [m for m in ("gptcache", "sqlalchemy", "faiss") if importlib.util.find_spec(m) is None]
    if missing:  # never let GPTCache pip-install its optional dependencies at run time
        return {"skipped": f"not installed: {', '.join(missing)} (pip install gptcache sqlalchemy faiss-cpu)"}
    from gptcache import Cache, Config
    from gptcache.adapter.api import get, put
    from gptcache.manager import CacheBase, VectorBase, get_data_manager
    from gptcache.processor.pre import get_prompt
    from gptcache.similarity_evaluation.distance import SearchDistanceEvaluation

    # GPTCache closes (and writes) its stores at interpreter exit; remove their folder after that.
    tmp = tempfile.mkdtemp(prefix="semgate-gptcache-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    sizing = {} if max_size is None else {"max_size": max_size}
    manager = get_data_manager(CacheBase("sqlite", sql_url=f"sqlite:///{tmp}/gptcache.db"),
                               VectorBase("faiss", dimension=384, index_path=f"{tmp}/faiss.index"), **sizing)
    cache = Cache()
    cache.init(pre_embedding_func=get_prompt, embedding_func=lambda text, **_: vectors[text],
               data_manager=manager, similarity_evaluation=SearchDistanceEvaluation(),
               config=Config(similarity_threshold=GPTCACHE_THRESHOLD))
    started = time.perf_counter()
    for p in tqdm(stored, desc="gptcache put", file=sys.stderr, disable=not progress):
        put(p.a, json.dumps([p.a, list(p.context_a)]), cache_obj=cache)
    put_s, started = time.perf_counter() - started, time.perf_counter()
    outcomes = []
    for p, name in tqdm(list(zip(pairs, categories)), desc="gptcache get", file=sys.stderr, disable=not progress):
        cached = get(p.b, cache_obj=cache)
        answerable = (links.group(p.b), _context(p.context_b)) in answerable_keys
        correct = False
        if cached is not None:
            question, context = json.loads(cached)
            correct = _context(tuple(context)) == _context(p.context_b) and links.linked(p.b, question)
        outcomes.append(Outcome(name, answerable, cached is not None, correct))
    get_s = time.perf_counter() - started
    manager.close()
    return {"description": gptcache.__doc__.split("\n\n")[0].strip(), "configuration": (
                "sqlite+faiss data manager, SearchDistanceEvaluation, similarity_threshold 0.8 (= cosine 0.6), "
                "get_prompt, same MiniLM vectors; " + ("its default max_size (1,000 entries, LRU)" if max_size is None
                                                        else f"max_size raised from 1,000 to {max_size}")),
            "overall": summarise(outcomes), "by_category": by_category(outcomes),
            "put_ms_mean": 1000 * put_s / max(len(stored), 1), "get_ms_mean": 1000 * get_s / max(len(pairs), 1)}


def plot_precision_recall(result: dict, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    semgate = result["semgate"]
    ax.plot([r["recall"] for r in semgate["sweep"]], [r["precision"] for r in semgate["sweep"]], "o-", ms=3,
            label="semgate (verifier threshold sweep)")
    shipped = semgate["overall"]
    ax.plot([shipped["recall"]], [shipped["precision"]], "r*", ms=14, label="semgate, shipped policy")
    raw = result["baselines"]["raw_minilm"]["sweep"]
    ax.plot([r["recall"] for r in raw], [r["precision"] for r in raw], "s-", ms=2, label="raw MiniLM top-1 (cosine sweep)")
    g = result["baselines"].get("gptcache", {}).get("overall")
    if g:
        ax.plot([g["recall"]], [g["precision"]], "kD", ms=8, label="GPTCache defaults (1,000 entries)")
    g = result["baselines"].get("gptcache_max_size_raised", {}).get("overall")
    if g:
        ax.plot([g["recall"]], [g["precision"]], "kx", ms=9, label="GPTCache, max_size raised")
    ax.set_xlabel("recall (correct hits / answerable queries)")
    ax.set_ylabel("precision (correct hits / hits)")
    ax.set_title(f"cache quality, {result['pairs']} pairs")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _context(context: tuple[dict, ...]) -> str:
    return json.dumps(list(context), sort_keys=True)


def _same_context(stored: Pair, query: Pair) -> bool:
    return _context(stored.context_a) == _context(query.context_b)
