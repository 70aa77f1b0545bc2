"""The verifier trainer's ensemble: nets of several seeds saved as one net whose logit is their mean."""

import numpy as np

from gateway.cache.train_verifier import fit_ensemble, fit_mlp
from gateway.cache.verifier import Verifier, VerifierInfo
from gateway.cache.verifier_features import FEATURES, IDF_BUCKETS


def _logits(mean: np.ndarray, scale: np.ndarray, layers: list, x: np.ndarray) -> np.ndarray:
    idf = np.ones(IDF_BUCKETS, np.float32)
    return Verifier(mean, scale, layers, (1.0, 0.0), idf, VerifierInfo(FEATURES, {}, {})).raw_logits(x)


def test_an_ensemble_scores_the_mean_of_its_seeds_logits_and_saves_as_one_net(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, len(FEATURES))).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 3] > 0).astype(np.int64)
    members = [fit_mlp(x, y, 8, 2, seed) for seed in (4, 5, 6)]
    mean, scale, layers = fit_ensemble(x, y, 8, 2, range(4, 7))
    assert layers[0][0].shape == (len(FEATURES), 24) and layers[1][0].shape == (24, 1)
    expected = np.mean([_logits(m, s, net, x) for m, s, net in members], axis=0)
    assert np.allclose(_logits(mean, scale, layers, x), expected, atol=1e-4)
    # The seeds disagree (else there is nothing to average), and one seed alone is fit_mlp's net.
    assert not np.allclose(_logits(*members[0], x), _logits(*members[1], x), atol=1e-2)
    alone = fit_ensemble(x, y, 8, 2, range(4, 5))
    assert np.allclose(_logits(*alone, x), _logits(*members[0], x), atol=1e-5)
    # Saved and loaded like any verifier: the gateway needs no change to run it.
    path = tmp_path / "ensemble.npz"
    idf = np.ones(IDF_BUCKETS, np.float32)
    Verifier(mean, scale, layers, (1.0, 0.0), idf, VerifierInfo(FEATURES, {}, {})).save(path)
    assert np.allclose(Verifier.load(path).raw_logits(x), expected, atol=1e-4)
