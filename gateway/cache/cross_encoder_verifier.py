"""A cross-encoder duplicate verifier: P(the cached question asks the same as the query), reading both.

The network (gateway/cache/cross_encoder.py: the first layers of the bundled MiniLM reading both
questions at once) is fine-tuned offline by `python -m gateway.cache.train_cross_encoder`, which saves
its weights with the calibration (Platt) and the table "target false-hit rate -> threshold" measured on
held-out data (gateway/cache/cross_encoder_calibration.py). Loading builds the int8 ONNX graph from them
once (gateway/cache/cross_encoder_onnx.py). `verify` scores only the VERIFY_TOP most similar of a
lookup's candidates, one pair per run, on the verifier's own thread.

Its trained weights ship as gateway/cache/cross_encoder_weights.npz; it scores hits only inside the
stacked verifier (gateway/cache/verifier_stack.py), beside the feature verifier. Alone it does not yet
separate QQP's retrieved look-alikes (docs/benchmarks.md#cross-encoder-verifier).
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gateway.cache.cross_encoder import PairTokenizer, SavedWeights, trained_classifier
from gateway.cache.minilm import INPUTS
from gateway.cpu_share import lower_this_thread

log = logging.getLogger(__name__)
WEIGHTS_PATH = Path("artifacts/cross_encoder/weights.npz")  # where `train_cross_encoder` writes them
# Candidates scored per lookup, the most similar first: each costs ~0.5 ms (two layers, ~30 tokens, int8),
# and a right answer below the second most similar candidate above the floor is rare.
VERIFY_TOP = 2
# The lowest cosine among the retrieved pairs it trains on: a similarity floor below it is untested ground.
CANDIDATE_FLOOR = 0.7


@dataclass(frozen=True)
class CrossEncoderInfo:
    """What the saved weights are and the thresholds measured on held-out data."""

    layers: int
    max_tokens: int
    calibration: tuple[float, float]  # Platt (slope, intercept) on the raw logit
    # target false-hit rate -> probability threshold reaching it on the held-out QQP dev world
    thresholds: dict[str, float]
    training: dict


class CrossEncoderVerifier:
    """`score_pairs` (synchronous) and `score` (awaitable, off the event loop) give calibrated probabilities."""

    def __init__(
        self, scorer: Callable[[dict[str, np.ndarray]], np.ndarray], tokenizer: PairTokenizer, info: CrossEncoderInfo
    ) -> None:
        self.scorer = scorer  # token batch -> raw logits: OnnxPairScorer, or TorchPairScorer as a fallback
        self._tokenizer = tokenizer
        self.info = info
        self.backend = "torch" if isinstance(scorer, TorchPairScorer) else "onnx"
        self._worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="semgate-cross-encoder", initializer=lower_this_thread
        )

    @classmethod
    def load(
        cls, path: str | Path = WEIGHTS_PATH, backend: str = "onnx", cache_dir: Path | None = None
    ) -> "CrossEncoderVerifier":
        path = Path(path)
        saved = SavedWeights.load(path)
        info = CrossEncoderInfo(saved.layers, saved.max_tokens, saved.calibration, saved.thresholds, saved.training)
        scorer = None
        if backend == "onnx":
            try:
                from gateway.cache.cross_encoder_onnx import onnx_pair_scorer

                scorer = onnx_pair_scorer(path, saved, cache_dir=cache_dir)
            except Exception as exc:  # noqa: BLE001 - PyTorch computes the same probabilities, slower
                log.warning("could not build the cross-encoder's ONNX graph (%s): scoring with PyTorch", exc)
        return cls(scorer or TorchPairScorer(saved), PairTokenizer(saved.max_tokens), info)

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The verifier's own thread (one; at the workers' priority beside a backend)."""
        return self._worker

    def raw_logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Uncalibrated logits. Each pair runs alone: the int8 graph quantises a run's activations with one
        scale, so a pair's score would otherwise depend on its companions."""
        return np.asarray([float(self.scorer(self._tokenizer([pair]))[0]) for pair in pairs], dtype=np.float32)

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """P(same question) for each (query, cached question) pair, calibrated on held-out data."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        slope, intercept = self.info.calibration
        return _sigmoid(slope * self.raw_logits(pairs) + intercept)

    async def score(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """`score_pairs` on the verifier's thread, so the event loop keeps serving meanwhile."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        return await asyncio.get_running_loop().run_in_executor(self._worker, self.score_pairs, list(pairs))

    async def verify(self, query: str, candidates: Sequence[tuple[str, float] | None]) -> list[float | None]:
        """Probabilities for the VERIFY_TOP most similar of `candidates` ((cached question, cosine), or None
        for one that is not a candidate: below the floor, vetoed by a guard); None elsewhere."""
        present = [(i, c) for i, c in enumerate(candidates) if c is not None]
        chosen = sorted(present, key=lambda ic: -ic[1][1])[:VERIFY_TOP]
        out: list[float | None] = [None] * len(candidates)
        for (i, _), p in zip(chosen, await self.score([(query, text) for _, (text, _) in chosen]), strict=True):
            out[i] = float(p)
        return out

    def threshold_for(self, false_hit_rate: float) -> float:
        """The probability threshold measured to keep false hits at `false_hit_rate` (interpolated)."""
        rates = sorted((float(k), v) for k, v in self.info.thresholds.items())
        return float(np.interp(false_hit_rate, [r for r, _ in rates], [t for _, t in rates]))


class TorchPairScorer:
    """The saved network in PyTorch: the reference the int8 graph is checked against, and the fallback."""

    def __init__(self, saved: SavedWeights) -> None:
        import torch

        self._torch = torch
        self.module = trained_classifier(saved)

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        with self._torch.inference_mode():
            return self.module(*(self._torch.from_numpy(inputs[k]) for k in INPUTS)).numpy()


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))).astype(np.float32)
