"""A pair scorer from the parts the cache has today: P(two texts say the same) from the duplicate verifier.

`score_pairs(list[(text_a, text_b)]) -> np.ndarray` of calibrated probabilities is the interface the
conversation check reads two contexts (or two offers) through (gateway/cache/context_match.py);
a cross-encoder that reads both texts together plugs in the same way. Until then this one takes the
two texts' embedding cosine and asks the calibrated verifier (gateway/cache/verifier.py), whose
features see what the cosine does not: the rare words only one side has, numbers, names. The
conversation check hands it the cosines of the vectors it holds (a stored entry's context was
embedded at insert), so a lookup embeds only its own context.
"""

from collections.abc import Callable, Sequence

import numpy as np

from gateway.cache.verifier import Verifier
from gateway.cache.verifier_features import view

Encode = Callable[[list[str]], np.ndarray]


class VerifierPairScorer:
    reads_cosines = True  # the conversation check passes the cosines of vectors it holds (stored at insert)

    def __init__(self, verifier: Verifier, encode: Encode) -> None:
        """`encode`: texts -> L2-normalised rows (the embedding model's `encode`; called from a worker thread)."""
        self.verifier = verifier
        self.encode = encode

    def __call__(self, pairs: Sequence[tuple[str, str]], cosines: Sequence[float] | None = None) -> np.ndarray:
        """`cosines`: the two texts' embedding cosine per pair, when the caller has their vectors already;
        else both texts are embedded here."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        if cosines is None:
            texts = sorted({t for pair in pairs for t in pair})
            vectors = dict(zip(texts, self.encode(texts), strict=True))
            cosines = [float(np.dot(vectors[a], vectors[b])) for a, b in pairs]
        # Each pair stands alone: its only "neighbour" is itself.
        # Read as written, as they are embedded: the conversation check's thresholds were measured so.
        scores = [
            float(
                self.verifier.probabilities(view(a, as_written=True), [(view(b, as_written=True), cosine)], [cosine])[0]
            )
            for (a, b), cosine in zip(pairs, cosines, strict=True)
        ]
        return np.asarray(scores, dtype=np.float32)
