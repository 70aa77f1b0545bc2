"""Condensing many example embeddings into a few prototypes, so classifying stays one small matrix product.

A category with hundreds or thousands of examples (CLINC150 gives 1,500 per domain) would make
every query pay for a product with all of them; spherical k-means keeps one unit vector per
cluster of examples, which keeps kNN-like accuracy at a fraction of the cost.
"""

import numpy as np


def normalize_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def condense(vectors: np.ndarray, max_count: int, iterations: int = 25, seed: int = 0) -> np.ndarray:
    """At most `max_count` unit prototypes for the unit rows of `vectors` (the rows themselves if few enough)."""
    if len(vectors) <= max_count:
        return vectors
    rng = np.random.default_rng(seed)  # fixed seed: the same policy always yields the same classifier
    centers = _plus_plus_init(vectors, max_count, rng)
    for _ in range(iterations):
        assignment = (vectors @ centers.T).argmax(axis=1)
        moved = False
        for j in range(max_count):
            members = vectors[assignment == j]
            if len(members) == 0:
                continue  # keep the old center; k-means++ makes empty clusters rare
            center = members.sum(axis=0)
            center /= max(float(np.linalg.norm(center)), 1e-12)
            moved |= not np.allclose(center, centers[j], atol=1e-6)
            centers[j] = center
        if not moved:
            break
    return centers


def _plus_plus_init(vectors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    centers = [vectors[rng.integers(len(vectors))]]
    distance = 1.0 - vectors @ centers[0]
    for _ in range(count - 1):
        weights = np.maximum(distance, 0.0) ** 2
        total = float(weights.sum())
        index = rng.choice(len(vectors), p=weights / total) if total > 0 else rng.integers(len(vectors))
        centers.append(vectors[index])
        distance = np.minimum(distance, 1.0 - vectors @ centers[-1])
    return np.stack(centers).astype(np.float32)
