"""Upstream load as one smoothed number with hysteresis: what the adaptive policy reacts to.

Load is queueing and saturation, never the length of answers. Each signal is scaled so that 1.0
means "saturated": requests in flight at the upstream's capacity; requests the backend itself
reports waiting, at its capacity (where it reports them); time to the first token at
`latency_ratio_saturated` times its unloaded baseline (a queued request waits before its first
token, however long its answer will be); 429/503 responses at `throttle_rate_saturated`. The load
index is the largest of them, smoothed over time. The upstream enters overload when the index
reaches `high_mark` and leaves only when it falls below `low_mark`, so a load hovering near one
mark cannot flip the state back and forth.

Whole-request latency is not a signal: a few long answers on an idle CPU backend with one user
once read as overload for every category (thresholds loosened, TTLs doubled).
"""

from dataclasses import dataclass

from policies.schema import LoadSettings

NORMAL = "normal"
OVERLOADED = "overloaded"
# A first token sooner than this is no queue, whatever its ratio to a tiny baseline: 4 ms against
# 1 ms is scheduling noise, not three requests ahead.
MIN_BASELINE_S = 0.05


@dataclass(frozen=True)
class LoadSample:
    """What the gateway saw of one upstream over its last sampling window."""

    in_flight: int
    capacity: int  # concurrent requests the upstream serves before it queues
    first_token_s: float | None  # recent typical time to the first token (the window's median); None: none seen
    throttle_rate: float  # share of the window's responses that were 429 or 503
    queued: int | None = None  # requests the backend itself reports waiting; None where it reports none


@dataclass(frozen=True)
class LoadState:
    level: str  # NORMAL | OVERLOADED
    index: float  # smoothed load index, 1.0 = saturated
    pressure: float  # 0..1: how far the thresholds move toward their adaptive bounds
    baseline_first_token_s: float | None  # learned while the upstream was unloaded


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
        if sample.first_token_s is not None and self._level == NORMAL and _unloaded(sample):
            # Learned only while nothing queues: a long overload must not become the new normal.
            if self._baseline is None:
                self._baseline = sample.first_token_s
            else:
                weight = _smoothing(elapsed, s.baseline_half_life_seconds)
                self._baseline += weight * (sample.first_token_s - self._baseline)
        return self.state

    @property
    def state(self) -> LoadState:
        return LoadState(self._level, self._index, self._pressure(), self._baseline)

    def _raw_index(self, sample: LoadSample) -> float:
        s = self.settings
        capacity = max(sample.capacity, 1)
        signals = [sample.in_flight / capacity, sample.throttle_rate / s.throttle_rate_saturated]
        if sample.queued is not None:
            signals.append(sample.queued / capacity)
        if sample.first_token_s is not None and self._baseline is not None:
            baseline = max(self._baseline, MIN_BASELINE_S)
            signals.append(max(0.0, sample.first_token_s / baseline - 1.0) / (s.latency_ratio_saturated - 1.0))
        return max(signals)

    def _pressure(self) -> float:
        # Full pressure on entering overload, easing off continuously as the index falls to
        # the low mark, so leaving overload changes nothing abruptly.
        if self._level == NORMAL:
            return 0.0
        s = self.settings
        return min(1.0, max(0.0, (self._index - s.low_mark) / (s.high_mark - s.low_mark)))


def _unloaded(sample: LoadSample) -> bool:
    """Nothing waits: every request in flight has a slot, and the backend reports no queue."""
    return sample.in_flight < max(sample.capacity, 1) and not sample.queued


def _smoothing(elapsed: float, half_life: float) -> float:
    """Weight of a new sample in an exponential moving average over time (not over samples):
    irregular sampling intervals then smooth the same way."""
    return 1.0 - 0.5 ** (elapsed / half_life)
