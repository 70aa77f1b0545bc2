"""PNG plots of load runs: latency CDFs, hit rate over time by category, goodput versus offered rate."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from loadtest.metrics import Summary  # noqa: E402
from loadtest.records import RequestRecord  # noqa: E402


def _cdf(ax, values: Sequence[float], label: str) -> None:
    if values:
        xs = np.sort(np.asarray(values)) * 1000
        ax.plot(xs, np.arange(1, len(xs) + 1) / len(xs), label=label)


def plot_latency_cdf(runs: dict[str, Sequence[RequestRecord]], path: Path) -> Path:
    """TTFT and end-to-end CDFs, one line per run (rate or target)."""
    fig, (ttft_ax, e2e_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for label, records in runs.items():
        ok = [r for r in records if r.ok]
        _cdf(ttft_ax, [r.ttft_s for r in ok if r.ttft_s is not None], label)
        _cdf(e2e_ax, [r.e2e_s for r in ok if r.e2e_s is not None], label)
    for ax, name in ((ttft_ax, "time to first token"), (e2e_ax, "end-to-end latency")):
        ax.set_xscale("log")
        ax.set_xlabel(f"{name} (ms, log)")
        ax.set_ylabel("fraction of requests")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def hit_rate_series(records: Sequence[RequestRecord], bins: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Bin centres (s) and, per category, the hit rate of the requests sent in each bin (NaN if none)."""
    ok = [r for r in records if r.ok and r.cache is not None]
    end = max((r.start_s for r in ok), default=0.0) or 1.0
    edges = np.linspace(0.0, end * (1 + 1e-9), bins + 1)
    series: dict[str, np.ndarray] = {}
    for label in sorted({r.label for r in ok}):
        starts = np.array([r.start_s for r in ok if r.label == label])
        hits = np.array([r.hit for r in ok if r.label == label], dtype=np.float64)
        sent, _ = np.histogram(starts, edges)
        hit, _ = np.histogram(starts, edges, weights=hits)
        with np.errstate(invalid="ignore", divide="ignore"):
            series[label] = np.where(sent > 0, hit / np.maximum(sent, 1), np.nan)
    return (edges[:-1] + edges[1:]) / 2, series


def plot_hit_rate_over_time(records: Sequence[RequestRecord], path: Path, bins: int = 12) -> Path:
    centres, series = hit_rate_series(records, bins)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for label, rates in series.items():
        ax.plot(centres, rates * 100, marker="o", markersize=3, label=label)
    ax.set_xlabel("time since start (s)")
    ax.set_ylabel("hit rate (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("cache hit rate over time, by category")
    return _save(fig, path)


def plot_goodput_vs_rate(rows: Sequence[tuple[float, Summary]], path: Path) -> Path:
    rates = [rate for rate, _ in rows]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ax.plot(rates, rates, linestyle=":", color="grey", label="offered")
    ax.plot(rates, [s.throughput_rps for _, s in rows], marker="o", label="throughput")
    ax.plot(rates, [s.goodput_rps for _, s in rows], marker="s", label="goodput (met SLO)")
    ax.set_xlabel("offered rate (req/s)")
    ax.set_ylabel("req/s")
    ax.grid(True, alpha=0.3)
    ax.legend()
    ax.set_title("goodput versus offered rate")
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
