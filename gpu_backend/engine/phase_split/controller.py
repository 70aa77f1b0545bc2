"""The SLO-aware split controller: moves compute between the prefill and decode workers.

It keeps a sliding window of finished requests (their TTFT, TPOT, length, SLO and the split
they ran under) and a latency model per phase (latency_model.py). For each candidate split
it predicts every windowed request's TTFT and TPOT had it run under that split: TTFT scales
with the prefill worker's slowdown (its queueing and its prefill chunks both run there),
TPOT with the decode worker's. The predicted attainment is the fraction of those requests
that would meet all their objectives. It moves to the best candidate only when that beats
the current split's prediction by `hysteresis` and the current split has held `dwell_s`
(hysteresis: measurement noise must not flip the split back and forth). Every change is
logged and kept in `changes` (exported in /metrics and the engine stats).
"""

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from gpu_backend.engine.phase_split.latency_model import PhaseLatencyModel
from gpu_backend.engine.phase_split.partition import GpuSplit
from gpu_backend.engine.phase_split.split import PhaseSplit, phase_compute
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.errors import InvalidConfig

log = logging.getLogger(__name__)

Split = PhaseSplit | GpuSplit  # threads per worker (CPU), or SMs / MPS percent per phase (GPU)


@dataclass(frozen=True)
class RequestObservation:
    finished_at: float
    slo: RequestSLO
    ttft_s: float
    tpot_s: float | None
    num_output_tokens: int
    split: Split


@dataclass(frozen=True)
class SplitChange:
    at: float
    old: Split
    new: Split
    predicted_old: float  # predicted attainment of the window under each split
    predicted_new: float
    window_requests: int


class FixedSplit:
    """No controller: the split stays where it was started (or `set_split` puts it)."""

    def __init__(self) -> None:
        self.changes: list[SplitChange] = []

    def observe_step(
        self, phase: str, tokens: int, seconds: float, threads: int, other_threads: int, other_busy: bool
    ) -> None:
        pass

    def observe_request(self, observation: RequestObservation) -> None:
        pass

    def decide(self, current: Split, now: float | None = None) -> Split | None:
        return None


class SplitController:
    def __init__(
        self,
        candidates: Sequence[Split],
        cores: int,
        window_s: float = 30.0,
        min_requests: int = 4,
        hysteresis: float = 0.05,
        dwell_s: float = 3.0,
        max_window_requests: int = 128,
        disjoint: bool = False,
    ) -> None:
        """`cores`: the compute split (CPU cores, or the GPU's SMs or 100 percent); `disjoint`:
        the shares are SM partitions that do not slow each other (GPU), not time-shared threads."""
        if not candidates:
            raise InvalidConfig("the controller needs at least one candidate split")
        self.candidates = list(candidates)
        self.cores = cores
        self.disjoint = disjoint
        self.window_s, self.min_requests = window_s, min_requests
        self.hysteresis, self.dwell_s = hysteresis, dwell_s
        self.requests: deque[RequestObservation] = deque(maxlen=max_window_requests)
        self.models = {phase: PhaseLatencyModel(phase) for phase in ("prefill", "decode")}
        self.changes: list[SplitChange] = []
        self.last_change_at = float("-inf")
        self.last_prediction: dict[Split, float] = {}

    def observe_step(
        self, phase: str, tokens: int, seconds: float, threads: int, other_threads: int, other_busy: bool
    ) -> None:
        self.models[phase].observe(
            tokens, seconds, phase_compute(threads, other_threads, self.cores, other_busy, self.disjoint)
        )

    def observe_request(self, observation: RequestObservation) -> None:
        if observation.slo.is_set:
            self.requests.append(observation)

    def _cores(self, phase: str, split: Split) -> float:
        """A phase's compute under `split` with both workers busy (the case the SLOs are at risk in)."""
        return phase_compute(split.share(phase), split.other(phase), self.cores, True, self.disjoint)

    def predicted_attainment(self, split: Split, requests: list[RequestObservation]) -> float:
        met = 0
        for r in requests:
            prefill = self.models["prefill"].slowdown(self._cores("prefill", r.split), self._cores("prefill", split))
            decode = self.models["decode"].slowdown(self._cores("decode", r.split), self._cores("decode", split))
            ttft = r.ttft_s * prefill
            tpot = None if r.tpot_s is None else r.tpot_s * decode
            finish = ttft + (0.0 if tpot is None else tpot * (r.num_output_tokens - 1))
            met += r.slo.met(0.0, ttft, finish, r.num_output_tokens)
        return met / len(requests) if requests else 1.0

    def decide(self, current: Split, now: float | None = None) -> Split | None:
        """The split to move to now, or None to stay (the change is recorded when returned)."""
        now = time.monotonic() if now is None else now
        while self.requests and self.requests[0].finished_at < now - self.window_s:
            self.requests.popleft()
        if len(self.requests) < self.min_requests or now - self.last_change_at < self.dwell_s:
            return None
        for model in self.models.values():
            model.fit()
        window = list(self.requests)
        self.last_prediction = {split: self.predicted_attainment(split, window) for split in self.candidates}
        stay = self.last_prediction.get(current, self.predicted_attainment(current, window))
        best = max(self.candidates, key=lambda split: (self.last_prediction[split], split == current))
        if best == current or self.last_prediction[best] < stay + self.hysteresis:
            return None
        change = SplitChange(now, current, best, stay, self.last_prediction[best], len(window))
        self.changes.append(change)
        self.last_change_at = now
        log.info(
            "phase split: %s -> %s (predicted attainment %.2f -> %.2f over %d requests; "
            "scaling prefill %.2f, decode %.2f)",
            current,
            best,
            stay,
            change.predicted_new,
            len(window),
            self.models["prefill"].scaling,
            self.models["decode"].scaling,
        )
        return best
