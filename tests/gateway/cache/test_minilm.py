"""The embedding model computes what sentence-transformers computes (the thresholds were tuned on it).

Both backends, on real QQP questions, one at a time and batched with padding, against
`SentenceTransformer.encode(normalize_embeddings=True)`: cosine >= 0.9999 for every text.
"""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from gateway.cache.embedder import EmbeddingModel, bundled_model_dir
from gateway.cache.evaluation import read_pairs
from gateway.cache.onnx_export import PROBES

QQP = Path(__file__).resolve().parents[3] / "../shared/evaldata/qqp_pairs.jsonl.gz"


@pytest.fixture(scope="module")
def texts() -> list[str]:
    questions = [t for p in read_pairs(str(QQP), split="test", limit=40) for t in (p.a, p.b)] if QQP.exists() else []
    return questions + list(PROBES)


@pytest.fixture(scope="module")
def reference(texts) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(bundled_model_dir()), device="cpu")
    return model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=16)


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_vectors_match_sentence_transformers(backend, texts, reference, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SEMGATE_MODEL_CACHE", str(tmp_path_factory.getbasetemp() / "models"))
    model = EmbeddingModel(backend=backend)
    assert model.backend == backend  # no silent fallback: onnxruntime and onnx are dependencies
    batched = model.encode(texts, batch_size=16)
    single = np.concatenate([model.encode([t]) for t in texts])
    for vectors in (batched, single):
        assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert float((vectors * reference).sum(axis=1).min()) >= 0.9999


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="onnx"):
        EmbeddingModel(backend="tensorflow")


def test_no_texts_give_an_empty_matrix(embedding_model):
    assert embedding_model.encode([]).shape == (0, 384)


def test_the_onnx_export_fuses_every_layer(tmp_path_factory, monkeypatch):
    """One Attention and two SkipLayerNormalization nodes per layer: the fused graph the embedder runs
    (gateway/cache/onnx_export.fuse), checked against sentence-transformers above."""
    import onnx

    cache = tmp_path_factory.getbasetemp() / "models"
    monkeypatch.setenv("SEMGATE_MODEL_CACHE", str(cache))
    EmbeddingModel(backend="onnx")
    (path,) = [p for p in cache.glob("*.onnx") if not p.name.startswith(".")]
    ops = Counter(node.op_type for node in onnx.load(str(path)).graph.node)
    assert ops["Attention"] == 6 and ops["SkipLayerNormalization"] == 12 and ops["EmbedLayerNormalization"] == 1
    assert ops["Softmax"] == 0  # nothing of the unfused attention is left
