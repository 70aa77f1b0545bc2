"""SLO-aware scheduling for goodput (JITServe): requests served within their SLOs per second.

Three decisions differ from FCFS, all driven by a per-request SLO (engine/slo.py), an
output-length estimate (engine/length_estimator.py) and a fitted step-time model
(engine/step_cost.py):

- Admission order: the waiting request whose SLO leaves the least slack goes first
  (latest start time that still meets its TTFT or deadline; the remaining answer costs one
  decode step per token, a step of one token per running sequence). A request that can no
  longer meet its SLO goes after every one that still can, in arrival order; requests
  without an SLO go after those with one. Under overload the order is also checked as a
  queue: each request is prefilled after those ahead of it, and when one would miss its
  TTFT there, the longest prompt still waiting for its first token gives way (Moore-Hodgson:
  most requests on time) and waits with those that can no longer make it.
- Slots go to those that cannot wait: when feasible requests that cannot wait (their slack
  is less than the time serving them takes) are blocked only by the running cap, running
  requests that can (a deadline job paced far from its deadline) are preempted to make room,
  most slack first, and come back when their turn in the order above comes. Under overload
  the paced requests otherwise hold the slots for most of their deadline while chat
  requests that arrive meanwhile miss their TTFT in the queue.
- Just enough service: a decoding request is stepped only when its next token is due,
  i.e. when skipping one more step would risk its TPOT (token k is due at
  first_token + (k - 1) * tpot, times a headroom) or its deadline (the estimated remaining
  tokens, one per step, must still fit). The steps it skips go to prefills and to requests
  that are due. Requests without an SLO, or already past it, are stepped every step (no
  starvation); so is everyone while a feasible request waits for a slot, not for time.
"""

import math
import time
from collections import deque
from collections.abc import Callable

from gpu_backend.engine.length_estimator import OutputLengthEstimator
from gpu_backend.engine.scheduled_batch import ScheduledBatch
from gpu_backend.engine.scheduling_policy import RunQueues, SchedulingPolicy
from gpu_backend.engine.sequence import FinishReason, Sequence
from gpu_backend.engine.step_cost import StepCostModel


class GoodputPolicy(SchedulingPolicy):
    def __init__(
        self,
        queues: RunQueues,
        estimator: OutputLengthEstimator | None = None,
        cost: StepCostModel | None = None,
        margin: float = 2.0,
        headroom: float = 0.6,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queues = queues
        self.estimator = estimator or OutputLengthEstimator()
        self.cost = cost or StepCostModel()
        # A token is scheduled when it is due within `margin` step times.
        self.margin = margin
        # Pace to `headroom` of each TPOT and deadline: step times jitter (other load,
        # prefills joining), and a request paced to exactly its SLO misses it on any slip.
        self.headroom = headroom
        self.clock = clock
        self._last_step_tokens = 1
        self._pacing = True
        self.skipped_decodes = 0
        self.yielded_slots = 0  # running requests preempted for ones that could not wait
        self._feasible: set[int] = set()  # waiting requests that can still meet their SLO (order)
        # Within one step: the queue as last sorted, so that the scheduler's admission pass
        # does not sort the same queue again (None between steps: every `order` sorts).
        self._sorted: list[int] | None = None

    @property
    def running(self) -> list[Sequence]:
        return self.queues.running

    @property
    def max_running(self) -> int:
        return self.queues.max_running

    @property
    def max_prefill_tokens(self) -> int:
        return self.queues.max_prefill_tokens

    # -- inputs -------------------------------------------------------------------------

    def observe_step(self, batch: ScheduledBatch, seconds: float) -> None:
        self.cost.observe(batch.num_tokens, seconds)
        self._last_step_tokens = batch.num_tokens

    def finished(self, seq: Sequence) -> None:
        if seq.finish_reason in (FinishReason.STOP, FinishReason.LENGTH):
            self.estimator.record(seq.slo.category, seq.num_output_tokens)

    # -- decisions ----------------------------------------------------------------------

    def step_time(self) -> float:
        """The next step's time, for pacing: about the size of the last one."""
        return self.cost.predict(max(1, self._last_step_tokens))

    def decode_step_time(self) -> float:
        """A step of the remaining answer: one token for each running sequence. (The last
        step may have been a 512-token prefill, which says nothing about decode steps.)"""
        return self.cost.predict(max(1, len(self.running)))

    def remaining_tokens(self, seq: Sequence) -> int:
        return self.estimator.remaining(seq.slo.category, seq.num_output_tokens, seq.params.max_tokens)

    def prefill_time(self, pending: int) -> float:
        """`pending` prompt tokens, alone, in chunks of max_prefill_tokens."""
        return -(-pending // self.max_prefill_tokens) * self.cost.predict(min(pending, self.max_prefill_tokens))

    def latest_start(self, seq: Sequence, now: float, pending: int | None = None) -> float | None:
        """Latest time `seq` can be admitted and still meet its SLO; None without an SLO.
        `pending`: prompt tokens to compute from then (default: those pending now)."""
        slo, step = seq.slo, self.decode_step_time()
        prefill = self.prefill_time(seq.num_pending_tokens if pending is None else pending)
        starts = []
        if slo.ttft_s is not None and seq.first_token_time is None:
            starts.append(seq.arrival_time + slo.ttft_s - prefill)
        if slo.deadline_s is not None:
            starts.append(seq.arrival_time + slo.deadline_s - prefill - self.remaining_tokens(seq) * step)
        if slo.tpot_s is not None and seq.first_token_time is not None:
            starts.append(self._next_token_due(seq) - prefill)
        return min(starts) if starts else None

    def urgency(self, seq: Sequence, now: float) -> tuple[int, float]:
        """Admission order key: (0, latest start) for a request that can still meet its
        SLO, (1, arrival) without an SLO, (2, arrival) for one that can no longer meet it."""
        start = self.latest_start(seq, now)
        if start is None:
            return 1, seq.arrival_time
        if start < now:
            return 2, seq.arrival_time
        return 0, start

    def order(self, waiting: deque[Sequence]) -> deque[Sequence]:
        if self._sorted is not None and self._sorted == [seq.seq_id for seq in waiting]:
            return waiting
        now = self.clock()
        keys = {seq.seq_id: self.urgency(seq, now) for seq in waiting}
        for seq in self._late_in_queue(sorted(waiting, key=lambda seq: keys[seq.seq_id]), keys, now):
            keys[seq.seq_id] = 2, seq.arrival_time
        ordered = deque(sorted(waiting, key=lambda seq: keys[seq.seq_id]))
        self._feasible = {seq_id for seq_id, key in keys.items() if key[0] == 0}
        if self._sorted is not None:
            self._sorted = [seq.seq_id for seq in ordered]
        return ordered

    def _late_in_queue(self, ordered: list[Sequence], keys: dict, now: float) -> list[Sequence]:
        """Feasible requests that would still miss their TTFT behind the ones ahead of them.

        Walks the feasible ones in order, each prefilled after those ahead (max_prefill_tokens
        a step, beside one decode token per running sequence); when one would miss its TTFT,
        the longest prompt so far still waiting for its first token is given up (Moore-Hodgson:
        the most requests on time, the cheapest kept). Given up: it waits with the hopeless
        rather than take prefill time from requests that can still make it.
        """
        rows, chunk = len(self.running), self.max_prefill_tokens
        full_step = self.cost.predict(chunk + rows)
        kept, tokens, late = [], 0, []
        for seq in ordered:
            if keys[seq.seq_id][0] != 0:
                break
            tokens += seq.num_pending_tokens
            if seq.slo.ttft_s is None or seq.first_token_time is not None:
                continue
            kept.append(seq)
            steps = -(-tokens // chunk)
            first_token = now + (steps - 1) * full_step + self.cost.predict(tokens - (steps - 1) * chunk + rows)
            if first_token > seq.arrival_time + seq.slo.ttft_s:
                longest = max(kept, key=lambda s: s.num_pending_tokens)
                kept.remove(longest)
                late.append(longest)
                tokens -= longest.num_pending_tokens
        return late

    def can_wait(self, seq: Sequence, now: float, requeued: bool = False) -> bool:
        """Whether `seq` could wait as long as serving it takes and still meet its SLO
        (`requeued`: a running one, preempted now and recomputed from its first token)."""
        pending = seq.num_tokens if requeued else seq.num_pending_tokens
        start = self.latest_start(seq, now, pending)
        if start is None:
            return False  # no SLO: nothing to trade against
        return start - now >= self.prefill_time(pending) + self.remaining_tokens(seq) * self.decode_step_time()

    def _yield_slots(self, now: float) -> list[Sequence]:
        """Feasible requests that cannot wait, blocked only by the running cap, take the slots
        of running ones that can (least laxity first, preemptive). A victim stays feasible and,
        as its slack shrinks, stops being one: every request still finishes."""
        budget, needy = self.max_prefill_tokens, 0
        for seq in self.queues.waiting:  # ordered: feasible ones first, least slack first
            if budget <= 0 or seq.seq_id not in self._feasible:
                break
            if not self.can_wait(seq, now):
                needy += 1
                budget -= seq.num_pending_tokens
        needed = needy - (self.max_running - len(self.running))
        if needed <= 0:
            return []
        victims = [seq for seq in self.running if self.can_wait(seq, now, requeued=True)]
        victims.sort(key=lambda seq: self._latest_restart(seq, now), reverse=True)
        self.yielded_slots += len(victims[:needed])
        return victims[:needed]

    def _latest_restart(self, seq: Sequence, now: float) -> float:
        """`latest_start` of a running sequence preempted now; -inf without an SLO (never a victim)."""
        start = self.latest_start(seq, now, seq.num_tokens)
        return -math.inf if start is None else start

    def _next_token_due(self, seq: Sequence) -> float:
        slo = seq.slo
        dues = []
        if slo.tpot_s is not None and seq.first_token_time is not None:  # callers pass started sequences
            dues.append(seq.first_token_time + seq.num_output_tokens * slo.tpot_s * self.headroom)
        if slo.deadline_s is not None:
            dues.append(
                seq.arrival_time + slo.deadline_s * self.headroom - self.remaining_tokens(seq) * self.decode_step_time()
            )
        return min(dues)

    def wants_step(self, seq: Sequence) -> bool:
        slo = seq.slo
        if seq.num_pending_tokens > 1 or seq.first_token_time is None:
            return True  # prefill, or the first token: TTFT is running
        if not self._pacing or (slo.tpot_s is None and slo.deadline_s is None):
            return True  # best effort, or nothing else to do
        now = self.clock()
        due = self._next_token_due(seq)
        if due < now:
            # Behind schedule: if it can still make it, it is due; if not, best effort.
            return True
        if due - now <= self.margin * self.step_time():
            return True
        self.skipped_decodes += 1
        return False

    def begin_step(self) -> list[Sequence]:
        now = self.clock()
        self._sorted = []  # remember the order from here to the step's end
        self.queues.waiting = self.order(self.queues.waiting)
        victims = self._yield_slots(now)  # they join the queue, which the admission pass sorts again
        # Pacing saves step time for prefills. When a feasible request waits for a slot
        # rather than for time, it only holds the slots longer: step everyone.
        self._pacing = not (
            len(self.running) - len(victims) >= self.max_running
            and any(seq.seq_id in self._feasible for seq in self.queues.waiting)
        )
        return victims

    def relax(self) -> bool:
        """Nothing is due and nothing waits: step everyone rather than idle (work-conserving)."""
        self._pacing = False
        return True

    def end_step(self) -> None:
        self._pacing = True
        self._sorted = None

    def stats(self) -> dict[str, float]:
        return {"goodput_skipped_decodes": self.skipped_decodes, "goodput_yielded_slots": self.yielded_slots}
