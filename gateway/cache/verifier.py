"""The calibrated duplicate verifier: P(cached question asks the same as the query).

A small network (standardised features -> ReLU layers -> logit -> Platt calibration)
trained offline on the `dev` split of QQP by `python -m gateway.cache.train_verifier`.
Its weights ship with the package as `verifier_weights.npz`, so the gateway never trains
anything at run time; inference is a few small matrix products in numpy.
"""

import json
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.cache.verifier_features import FEATURES, QuestionView, context_of, pair_features

WEIGHTS_PATH = Path(__file__).with_name("verifier_weights.npz")


@dataclass(frozen=True)
class VerifierInfo:
    """What the shipped weights were trained on and the thresholds measured on held-out dev data."""

    features: tuple[str, ...]
    # target false-hit rate -> verifier threshold reaching it on held-out dev retrievals
    thresholds: dict[str, float]
    training: dict


class Verifier:
    executor: Executor | None = None  # a few small matrix products: cheaper on the event loop than a thread hop

    def __init__(
        self,
        mean: np.ndarray,
        scale: np.ndarray,
        layers: list[tuple[np.ndarray, np.ndarray]],
        calibration: tuple[float, float],
        idf: np.ndarray,
        info: VerifierInfo,
    ) -> None:
        self._mean, self._scale = mean.astype(np.float32), scale.astype(np.float32)
        self._layers = [(w.astype(np.float32), b.astype(np.float32)) for w, b in layers]
        self._calibration = calibration
        self.idf = idf.astype(np.float32)
        self.info = info
        # Rows carry every feature pair_features computes; these weights read the ones they were trained on.
        self._columns = np.asarray([FEATURES.index(name) for name in info.features], dtype=np.intp)

    @classmethod
    def load(cls, path: str | Path = WEIGHTS_PATH) -> "Verifier":
        with np.load(path, allow_pickle=False) as data:
            depth = int(data["depth"])
            layers = [(data[f"w{i}"], data[f"b{i}"]) for i in range(depth)]
            info = json.loads(str(data["info"]))
            return cls(
                data["mean"],
                data["scale"],
                layers,
                tuple(data["calibration"].tolist()),
                data["idf"],
                VerifierInfo(tuple(info["features"]), info["thresholds"], info["training"]),
            )

    def save(self, path: str | Path) -> None:
        arrays = {f"w{i}": w for i, (w, _) in enumerate(self._layers)}
        arrays |= {f"b{i}": b for i, (_, b) in enumerate(self._layers)}
        info = {
            "features": list(self.info.features),
            "thresholds": self.info.thresholds,
            "training": self.info.training,
        }
        np.savez_compressed(
            path,
            mean=self._mean,
            scale=self._scale,
            calibration=np.asarray(self._calibration),
            idf=self.idf,
            depth=np.asarray(len(self._layers)),
            info=np.asarray(json.dumps(info)),
            **arrays,  # type: ignore[arg-type]  # numpy types **kwds as if one could be allow_pickle
        )

    def probabilities(
        self, query: QuestionView, candidates: list[tuple[QuestionView, float]], neighbour_similarities: list[float]
    ) -> np.ndarray:
        """P(duplicate) for each (cached question, cosine) candidate; `neighbour_similarities`
        are the cosines of every live neighbour the index returned for this query."""
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        rows = np.stack(
            [
                pair_features(query, view, cosine, context_of(cosine, neighbour_similarities), self.idf)
                for view, cosine in candidates
            ]
        )
        return self.predict(rows)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for rows of `pair_features`."""
        return self.calibrated(self.raw_logits(features))

    def calibrated(self, logits: np.ndarray) -> np.ndarray:
        """Raw logits to probabilities (Platt)."""
        return _sigmoid(self._calibration[0] * logits + self._calibration[1])

    def raw_logits(self, features: np.ndarray) -> np.ndarray:
        x = (features[:, self._columns] - self._mean) / self._scale
        for i, (w, b) in enumerate(self._layers):
            x = x @ w + b
            if i < len(self._layers) - 1:
                np.maximum(x, 0.0, out=x)
        return x[:, 0]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))
