"""Seeded popularity sampling: Zipf (power-law) ranks over a pool, exponent 0 being uniform."""

from __future__ import annotations

from typing import Generic, Sequence, TypeVar

import numpy as np

T = TypeVar("T")


class ZipfSampler(Generic[T]):
    """Draws items with P(rank r) ∝ 1 / r**exponent.

    Ranks are assigned by a seeded shuffle, so popularity does not follow the order of the data file.
    """

    def __init__(self, items: Sequence[T], exponent: float, rng: np.random.Generator) -> None:
        if not items:
            raise ValueError("cannot sample from an empty pool")
        if exponent < 0:
            raise ValueError(f"Zipf exponent must be >= 0, got {exponent}")
        self._items = [items[i] for i in rng.permutation(len(items))]
        weights = 1.0 / np.arange(1, len(items) + 1, dtype=np.float64) ** exponent
        self._cdf = np.cumsum(weights / weights.sum())
        self._rng = rng

    def draw(self) -> T:
        rank = int(np.searchsorted(self._cdf, self._rng.random(), side="right"))
        return self._items[min(rank, len(self._items) - 1)]
