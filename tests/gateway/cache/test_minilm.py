"""The embedding model computes what sentence-transformers computes, within what each graph promises.

On real QQP questions, one at a time and batched with padding, against
`SentenceTransformer.encode(normalize_embeddings=True)`: PyTorch and the fp32 ONNX graph to cosine
>= 0.9999 for every text; the int8 graph the gateway runs to >= 0.97, and the similarity it gives
a pair of questions (what the cache thresholds) within a few hundredths of sentence-transformers'.
"""

import logging
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from gateway.cache.bundled_model import bundled_model_dir
from gateway.cache.embedder import EmbeddingModel
from gateway.cache.evaluation import read_pairs
from gateway.cache.minilm import MiniLM
from gateway.cache.onnx_export import GRAPHS, PROBES, onnx_transformer

QQP = Path(__file__).resolve().parents[3] / "../shared/evaldata/qqp_pairs.jsonl.gz"


@pytest.fixture(scope="module")
def pairs() -> list:
    return read_pairs(str(QQP), split="test", limit=40) if QQP.exists() else []


@pytest.fixture(scope="module")
def texts(pairs) -> list[str]:
    return [t for p in pairs for t in (p.a, p.b)] + list(PROBES)


@pytest.fixture(scope="module")
def sentence_transformers():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(bundled_model_dir()), device="cpu")


@pytest.fixture(scope="module")
def reference(texts, sentence_transformers) -> np.ndarray:
    return sentence_transformers.encode(texts, normalize_embeddings=True, convert_to_numpy=True, batch_size=16)


@pytest.fixture
def model_cache(tmp_path_factory, monkeypatch) -> Path:
    cache = tmp_path_factory.getbasetemp() / "models"
    monkeypatch.setenv("SEMGATE_MODEL_CACHE", str(cache))
    return cache


def _model(kind: str):
    if kind == "fused":  # the fp32 ONNX graph, which the gateway ran before int8
        return MiniLM(bundled_model_dir(), onnx_transformer(bundled_model_dir(), threads=None, graph="fused"))
    model = EmbeddingModel(backend=kind, canonical=False)  # the transformer as sentence-transformers runs it
    assert model.backend == kind  # no silent fallback: onnxruntime and onnx are dependencies
    return model


def test_the_export_says_one_line_instead_of_a_wall_of_warnings(model_cache, caplog, capfd):
    """A first `make up` printed a screenful of TracerWarnings while the graph was exported. (First in
    this file: the fused graph it exports is the one the next test reuses.)"""
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.INFO, logger="gateway.cache"):
        warnings.simplefilter("always")
        assert onnx_transformer(bundled_model_dir(), threads=None, graph="fused") is not None
    assert [f"{w.category.__name__}: {w.message}" for w in seen] == []
    assert [r.message for r in caplog.records][0].startswith("exporting the embedding model to ONNX")
    printed = capfd.readouterr().err
    assert "Warning" not in printed and "Loading weights" not in printed


@pytest.mark.parametrize(("kind", "floor"), [("torch", 0.9999), ("fused", GRAPHS["fused"]), ("onnx", GRAPHS["int8"])])
def test_vectors_match_sentence_transformers(kind, floor, texts, reference, model_cache):
    model = _model(kind)
    batched = model.encode(texts, batch_size=16)
    single = np.concatenate([model.encode([t]) for t in texts])
    for vectors in (batched, single):
        assert vectors.shape == (len(texts), 384) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert float((vectors * reference).sum(axis=1).min()) >= floor


def test_the_int8_graph_keeps_pair_similarities_close(pairs, sentence_transformers, model_cache):
    """What the cache compares is the similarity of two questions: int8 moves it by 0.008 on average
    (0.043 at most over 500 QQP dev pairs)."""
    if not pairs:
        pytest.skip("no QQP data beside the repository")

    def similarities(encode) -> np.ndarray:
        return (encode([p.a for p in pairs]) * encode([p.b for p in pairs])).sum(axis=1)

    int8 = similarities(EmbeddingModel(backend="onnx", canonical=False).encode)
    fp32 = similarities(lambda t: sentence_transformers.encode(t, normalize_embeddings=True, convert_to_numpy=True))
    difference = np.abs(int8 - fp32)
    assert difference.mean() <= 0.015 and difference.max() <= 0.07


def test_an_unknown_backend_or_graph_is_refused():
    with pytest.raises(ValueError, match="onnx"):
        EmbeddingModel(backend="tensorflow")
    with pytest.raises(ValueError, match="int8"):
        onnx_transformer(bundled_model_dir(), threads=None, graph="fp16")


def test_no_texts_give_an_empty_matrix(embedding_model):
    assert embedding_model.encode([]).shape == (0, 384)


def test_the_gateway_runs_fused_layers_with_int8_weights(model_cache):
    """One quantised Attention and two SkipLayerNormalization nodes per layer, every other matrix
    product on int8 (gateway/cache/onnx_export.py), checked against sentence-transformers above."""
    import onnx

    path = onnx_transformer(bundled_model_dir(), threads=None).path
    ops = Counter(node.op_type for node in onnx.load(str(path)).graph.node)
    assert ops["QAttention"] == 6 and ops["SkipLayerNormalization"] == 12 and ops["EmbedLayerNormalization"] == 1
    assert ops["MatMulInteger"] == 18  # per layer: attention output, and the two of the feed-forward
    assert ops["Softmax"] == ops["MatMul"] == ops["Attention"] == 0  # nothing left in fp32 or unfused


def test_a_texts_vector_does_not_depend_on_its_batch(texts, embedding_model):
    """The int8 graph quantises a run's activations with one scale, so each text runs alone
    (gateway/cache/minilm.OnnxTransformer): the same vector in any micro-batch, padded or not."""
    single = np.concatenate([embedding_model.encode([t]) for t in texts])
    for batch_size in (2, 16):
        assert np.allclose(embedding_model.encode(texts, batch_size=batch_size), single, atol=1e-6)
