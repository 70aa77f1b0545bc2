"""`python -m gateway.cache.train_cross_encoder` end to end on a tiny slice of QQP dev (minutes on a loaded CPU)."""

import pytest

from gateway.cache import cross_encoder_onnx
from gateway.cache.cross_encoder import SavedWeights
from gateway.cache.cross_encoder_verifier import CrossEncoderVerifier
from gateway.cache.train_cross_encoder import main
from loadtest.benches.classify import EVALDATA

QQP = EVALDATA / "qqp_pairs.jsonl.gz"


@pytest.mark.slow
@pytest.mark.skipif(not QQP.exists(), reason="needs the QQP pairs (SEMGATE_EVALDATA)")
def test_the_retrain_command_writes_weights_that_load_as_an_int8_verifier(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMGATE_MODEL_CACHE", str(tmp_path / "models"))
    out = tmp_path / "verifier.npz"
    assert main(["--qqp", str(QQP), "--limit", "300", "--world-size", "150", "--qqp-pairs", "100", "--retrieved", "100",
                 "--generated", "50", "--everyday-rounds", "1", "--embeddings-cache", str(tmp_path / "emb.npz"),
                 "--out", str(out)]) == 0
    verifier = CrossEncoderVerifier.load(out, cache_dir=tmp_path / "models")
    assert verifier.backend == "onnx"
    assert verifier.info.training["dev_pairs"] == 300 and verifier.info.training["train_pairs"] > 200
    assert set(verifier.info.thresholds) >= {"0.01", "0.015", "0.02"}
    probabilities = verifier.score_pairs([("How do I boil an egg?", "How long should I boil an egg?")])
    assert 0.0 < float(probabilities[0]) < 1.0


@pytest.mark.slow
@pytest.mark.skipif(not QQP.exists(), reason="needs the QQP pairs (SEMGATE_EVALDATA)")
def test_a_graph_that_fails_its_check_keeps_the_trained_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("SEMGATE_MODEL_CACHE", str(tmp_path / "models"))

    def disagreeing(*args, **kwargs):
        raise ValueError("the int8 cross-encoder graph disagrees with PyTorch (logit error 0.369)")

    monkeypatch.setattr(cross_encoder_onnx, "onnx_pair_scorer", disagreeing)
    out = tmp_path / "verifier.npz"
    with pytest.raises(SystemExit, match="uncalibrated"):
        main(["--qqp", str(QQP), "--limit", "300", "--world-size", "150", "--qqp-pairs", "100", "--retrieved", "100",
              "--generated", "50", "--everyday-rounds", "0", "--embeddings-cache", str(tmp_path / "emb.npz"),
              "--out", str(out)])
    assert not out.exists()
    kept = SavedWeights.load(tmp_path / "verifier.uncalibrated.npz")
    assert kept.layers == 2 and kept.tensors and kept.thresholds == {}
