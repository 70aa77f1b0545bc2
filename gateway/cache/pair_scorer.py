"""A pair scorer from the parts the cache has today: P(two texts say the same) from the duplicate verifier.

`score_pairs(list[(text_a, text_b)]) -> np.ndarray` of calibrated probabilities is the interface the
conversation check reads two contexts (or two offers) through (gateway/cache/context_match.py);
a cross-encoder that reads both texts together plugs in the same way. Until then this one embeds
both texts, takes their cosine, and asks the calibrated verifier (gateway/cache/verifier.py), whose
features see what the cosine does not: the rare words only one side has, numbers, names.
"""

from collections.abc import Callable, Sequence

import numpy as np

from gateway.cache.verifier import Verifier
from gateway.cache.verifier_features import view

Encode = Callable[[list[str]], np.ndarray]


class VerifierPairScorer:
    def __init__(self, verifier: Verifier, encode: Encode) -> None:
        """`encode`: texts -> L2-normalised rows (the embedding model's `encode`; called from a worker thread)."""
        self.verifier = verifier
        self.encode = encode

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        texts = sorted({t for pair in pairs for t in pair})
        vectors = dict(zip(texts, self.encode(texts)))
        scores = []
        for a, b in pairs:
            cosine = float(np.dot(vectors[a], vectors[b]))
            # Each pair stands alone: its only "neighbour" is itself.
            scores.append(float(self.verifier.probabilities(view(a), [(view(b), cosine)], [cosine])[0]))
        return np.asarray(scores, dtype=np.float32)
