"""The QQP dev split the offline verifier tools train on, embedded once and kept on disk for all of them.

train_verifier, train_cross_encoder and train_verifier_stack read the same questions and share one
embeddings file, which holds vectors only for the exact text list it was made from (encode_cached): so
they list the texts one way (every question once, sorted), or each would find the other's file stale and
embed the whole split again.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.cache.embedder import EmbeddingModel, encode_cached
from gateway.cache.evaluation import Pair, read_pairs

QQP = Path("../shared/evaldata/qqp_pairs.jsonl.gz")
DEV_EMBEDDINGS = "artifacts/verifier/dev_embeddings.npz"


def add_dev_arguments(parser: argparse.ArgumentParser, weights: Path) -> None:
    """--qqp, --out (where the trained `weights` go by default) and --embeddings-cache."""
    parser.add_argument("--qqp", default=str(QQP), help="QQP pairs file; only its dev split is read")
    parser.add_argument("--out", default=str(weights), help="where the weights go")
    parser.add_argument("--embeddings-cache", default=DEV_EMBEDDINGS, help="reuse (or save) the dev embeddings here")


@dataclass(frozen=True)
class EmbeddedDev:
    pairs: list[Pair]
    texts: list[str]  # every question of `pairs` once, sorted
    vectors: np.ndarray  # per text


def embedded_dev(qqp: str | Path, model: EmbeddingModel, cache: str | Path, limit: int | None = None) -> EmbeddedDev:
    """The first `limit` (default: all) dev pairs of `qqp` and their questions' vectors, read from `cache` when
    it holds them, else embedded and saved there."""
    pairs = read_pairs(qqp, split="dev", limit=limit)
    texts = sorted({t for p in pairs for t in (p.a, p.b)})
    return EmbeddedDev(pairs, texts, encode_cached(model, texts, Path(cache)))
