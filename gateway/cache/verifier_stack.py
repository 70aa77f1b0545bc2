"""The stacked verifier: the feature verifier and the cross-encoder read together by one small head.

The feature verifier (gateway/cache/verifier.py) knows QQP's retrieved look-alikes from hand features;
the cross-encoder (gateway/cache/cross_encoder_verifier.py) reads query and candidate together and
knows the traps a rewrite makes (a swapped route, 9 am for 9 pm) that the features and the cosine
barely see. Neither replaces the other: a logistic head over (feature logit, cross-encoder logit,
cosine) learns how much each says, so the cross-encoder only has to add what the others miss.

`python -m gateway.cache.train_verifier_stack` fits the head by cross-fitting on data neither part
trained on (the QQP dev world the feature verifier holds out, the suite's `tune` half split by
domain) and measures, on the out-of-fold probabilities, the threshold that keeps each target
false-hit rate (so a category's threshold reads as a false-hit rate). Only the VERIFY_TOP most
similar candidates of a lookup are read by the cross-encoder (each ~1 ms, int8); the others
get probability 0 and cannot hit.
"""

import json
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.cache.cross_encoder_verifier import VERIFY_TOP, CrossEncoderVerifier
from gateway.cache.verifier import WEIGHTS_PATH as FEATURE_WEIGHTS
from gateway.cache.verifier import Verifier, VerifierInfo
from gateway.cache.verifier_features import QuestionView, context_of, pair_features

STACK_PATH = Path(__file__).with_name("verifier_stack.npz")
CROSS_ENCODER_PATH = Path(__file__).with_name("cross_encoder_weights.npz")
INPUTS = ("feature_logit", "cross_logit", "cosine")
VERIFIERS = ("stacked", "features")
SHIPPED_VERIFIER = "features"  # what the gateway decides hits with (docs/benchmarks.md#cross-encoder-verifier)


def load_verifier(
    kind: str = SHIPPED_VERIFIER, features_path: str | Path = FEATURE_WEIGHTS
) -> "Verifier | StackedVerifier":
    """`stacked`: this module's; `features`: the feature verifier alone (gateway/cache/verifier.py). Both read the
    feature verifier's weights from `features_path` (another file: a candidate measured before it ships)."""
    if kind not in VERIFIERS:
        raise ValueError(f"unknown verifier {kind!r}: one of {', '.join(VERIFIERS)}")
    return StackedVerifier.load(features_path=features_path) if kind == "stacked" else Verifier.load(features_path)


def stack_inputs(feature_logits: np.ndarray, cross_logits: np.ndarray, cosines: np.ndarray) -> np.ndarray:
    return np.column_stack([feature_logits, cross_logits, cosines]).astype(np.float32)


@dataclass(frozen=True)
class StackHead:
    """A logistic head on standardised INPUTS, then Platt scaling fitted out of fold."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    calibration: tuple[float, float]

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        return ((inputs - self.mean) / self.scale) @ self.coef + self.intercept

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        slope, bias = self.calibration
        return _sigmoid(slope * self.logits(inputs) + bias)


class StackedVerifier:
    """Same interface as Verifier (`probabilities`, `info`), so SemanticCache takes either."""

    def __init__(self, features: Verifier, cross: CrossEncoderVerifier, head: StackHead, info: VerifierInfo) -> None:
        self.features = features  # also what the conversation check scores contexts with (pair_scorer.py)
        self.cross = cross
        self.head = head
        self.info = info

    @property
    def executor(self) -> Executor:
        """The cross-encoder costs milliseconds a pair: the cache runs `probabilities` on its thread (at the
        workers' lower priority beside a backend, gateway/cpu_share.py), not on the event loop."""
        return self.cross.executor

    @classmethod
    def load(
        cls,
        path: str | Path = STACK_PATH,
        cross_path: str | Path = CROSS_ENCODER_PATH,
        features_path: str | Path = FEATURE_WEIGHTS,
    ) -> "StackedVerifier":
        head, info = read_head(path)
        return cls(Verifier.load(features_path), CrossEncoderVerifier.load(cross_path), head, info)

    def probabilities(
        self, query: QuestionView, candidates: list[tuple[QuestionView, float]], neighbour_similarities: list[float]
    ) -> np.ndarray:
        """P(duplicate) per (cached question, cosine); 0 for all but the VERIFY_TOP most similar."""
        out = np.zeros(len(candidates), dtype=np.float32)
        if not candidates:
            return out
        chosen = sorted(range(len(candidates)), key=lambda i: -candidates[i][1])[:VERIFY_TOP]
        rows = np.stack(
            [
                pair_features(
                    query,
                    candidates[i][0],
                    candidates[i][1],
                    context_of(candidates[i][1], neighbour_similarities),
                    self.features.idf,
                )
                for i in chosen
            ]
        )
        cross = self.cross.raw_logits([(query.text, candidates[i][0].text) for i in chosen])
        cosines = np.asarray([candidates[i][1] for i in chosen], dtype=np.float32)
        out[chosen] = self.head.probabilities(stack_inputs(self.features.raw_logits(rows), cross, cosines))
        return out


def save_head(path: str | Path, head: StackHead, info: VerifierInfo) -> None:
    meta = {"inputs": list(info.features), "thresholds": info.thresholds, "training": info.training}
    np.savez(
        path,
        mean=head.mean,
        scale=head.scale,
        coef=head.coef,
        intercept=np.asarray(head.intercept),
        calibration=np.asarray(head.calibration),
        info=np.asarray(json.dumps(meta)),
    )


def read_head(path: str | Path) -> tuple[StackHead, VerifierInfo]:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["info"]))
        if tuple(meta["inputs"]) != INPUTS:
            raise ValueError(f"{path} was fitted on inputs {meta['inputs']}, this code computes {list(INPUTS)}")
        head = StackHead(
            data["mean"].astype(np.float32),
            data["scale"].astype(np.float32),
            data["coef"].astype(np.float32),
            float(data["intercept"]),
            (float(data["calibration"][0]), float(data["calibration"][1])),
        )
    return head, VerifierInfo(INPUTS, meta["thresholds"], meta["training"])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))).astype(np.float32)
