"""Arrival processes reach their target rate and burstiness (checked on samples, never on a clock)."""

import itertools

import numpy as np
import pytest

from loadtest.arrivals import ArrivalProcess


def sample(process, n=40_000):
    return np.fromiter(itertools.islice(process.gaps(), n), dtype=np.float64)


@pytest.mark.parametrize("rate, cv", [(0.5, 1.0), (4.0, 1.0), (25.0, 1.0), (4.0, 0.5), (4.0, 2.0), (100.0, 3.0)])
def test_gaps_have_the_target_mean_and_variability(rate, cv):
    gaps = sample(ArrivalProcess(rate, cv, seed=3))
    assert gaps.mean() == pytest.approx(1 / rate, rel=0.05)
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.1)
    assert (gaps >= 0).all()


def test_arrivals_are_seeded():
    assert np.array_equal(sample(ArrivalProcess(3, 1.0, 1), 500), sample(ArrivalProcess(3, 1.0, 1), 500))
    assert not np.array_equal(sample(ArrivalProcess(3, 1.0, 1), 500), sample(ArrivalProcess(3, 1.0, 2), 500))


def test_send_times_count_matches_rate_times_horizon():
    times = list(ArrivalProcess(rate=20, seed=5).send_times(horizon_s=500, max_count=10**9))
    assert times[0] == 0.0 and all(b >= a for a, b in zip(times, times[1:])) and times[-1] < 500
    # Poisson count over 500 s at 20/s: mean 10000, sd 100; 5 sd of slack.
    assert abs(len(times) - 10_000) < 500


def test_send_times_stop_at_the_count_bound():
    assert len(list(ArrivalProcess(rate=1000).send_times(horizon_s=60, max_count=37))) == 37


@pytest.mark.parametrize("rate, cv", [(0, 1), (-1, 1), (1, 0)])
def test_invalid_processes_are_refused(rate, cv):
    with pytest.raises(ValueError):
        ArrivalProcess(rate, cv)
