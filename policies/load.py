"""Upstream load as one smoothed number with hysteresis: what the adaptive policy reacts to.

Each signal is scaled so that 1.0 means "saturated": in-flight requests at the upstream's capacity,
latency at `latency_ratio_saturated` times its learned baseline, 429/503 responses at
`throttle_rate_saturated`. The load index is the largest of them, smoothed over time. The upstream
enters overload when the index reaches `high_mark` and leaves only when it falls below `low_mark`,
so a load hovering near one mark cannot flip the state back and forth.
"""

from dataclasses import dataclass

from policies.schema import LoadSettings

NORMAL = "normal"
OVERLOADED = "overloaded"


@dataclass(frozen=True)
class LoadSample:
    """What the gateway saw of one upstream over its last sampling window."""

    in_flight: int
    capacity: int  # concurrent requests the upstream serves before it queues
    latency_s: float | None  # recent typical latency (say, the window's median); None when nothing finished
    throttle_rate: float  # share of the window's responses that were 429 or 503


@dataclass(frozen=True)
class LoadState:
    level: str  # NORMAL | OVERLOADED
    index: float  # smoothed load index, 1.0 = saturated
    pressure: float  # 0..1: how far the thresholds move toward their adaptive bounds
    baseline_latency_s: float | None


class UpstreamLoad:
    """The load state of one upstream; time is passed in, so replays and tests are deterministic."""

    def __init__(self, settings: LoadSettings):
        self.settings = settings
        self._index = 0.0
        self._level = NORMAL
        self._baseline: float | None = None
        self._last_time: float | None = None

    def observe(self, sample: LoadSample, now: float) -> LoadState:
        s = self.settings
        elapsed = 0.0 if self._last_time is None else max(0.0, now - self._last_time)
        self._last_time = now
        raw = self._raw_index(sample)
        self._index += _smoothing(elapsed, s.half_life_seconds) * (raw - self._index)
        if self._level == NORMAL and self._index >= s.high_mark:
            self._level = OVERLOADED
        elif self._level == OVERLOADED and self._index < s.low_mark:
            self._level = NORMAL
        if sample.latency_s is not None and self._level == NORMAL:
            # Learned only while healthy: a long overload must not become the new normal.
            if self._baseline is None:
                self._baseline = sample.latency_s
            else:
                weight = _smoothing(elapsed, s.baseline_half_life_seconds)
                self._baseline += weight * (sample.latency_s - self._baseline)
        return self.state

    @property
    def state(self) -> LoadState:
        return LoadState(self._level, self._index, self._pressure(), self._baseline)

    def _raw_index(self, sample: LoadSample) -> float:
        s = self.settings
        signals = [sample.in_flight / max(sample.capacity, 1), sample.throttle_rate / s.throttle_rate_saturated]
        if sample.latency_s is not None and self._baseline:
            signals.append(max(0.0, sample.latency_s / self._baseline - 1.0) / (s.latency_ratio_saturated - 1.0))
        return max(signals)

    def _pressure(self) -> float:
        # Full pressure on entering overload, easing off continuously as the index falls to
        # the low mark, so leaving overload changes nothing abruptly.
        if self._level == NORMAL:
            return 0.0
        s = self.settings
        return min(1.0, max(0.0, (self._index - s.low_mark) / (s.high_mark - s.low_mark)))


def _smoothing(elapsed: float, half_life: float) -> float:
    """Weight of a new sample in an exponential moving average over time (not over samples):
    irregular sampling intervals then smooth the same way."""
    return 1.0 - 0.5 ** (elapsed / half_life)
