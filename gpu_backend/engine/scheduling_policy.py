"""What a scheduling policy may decide, and the queues it decides over.

One Scheduler (engine/scheduler.py) owns the mechanics: blocks, admission, preemption,
the step's token budget. Policies plug into it and only decide: in which order waiting
requests are admitted, whether a running sequence is stepped now, which running ones give
up their slot, what they learn from each step and each finished request. The base class
is first-come-first-served: every hook leaves the scheduler's own order and choices as
they are, so a policy overrides only the hooks it has an opinion on. The builder
(gpu_backend/build.py) picks the policies a configuration asks for, in the order their
admission orders apply (the last one's order is the primary key: each sort is stable).
"""

from collections import deque
from dataclasses import dataclass, field

from gpu_backend.engine.scheduled_batch import ScheduledBatch
from gpu_backend.engine.sequence import Sequence


@dataclass
class RunQueues:
    """The scheduler's queues and limits, shared with the policies that read them. A policy
    may put `waiting` in another order; only the scheduler adds, removes or preempts."""

    max_running: int  # admission limit: sequences holding KV and decoding together
    max_prefill_tokens: int  # prompt tokens computed in one step
    waiting: deque[Sequence] = field(default_factory=deque)
    running: list[Sequence] = field(default_factory=list)  # in admission order: the newest is preempted first


class SchedulingPolicy:
    def arrive(self, seq: Sequence, active: list[Sequence]) -> None:
        """A request is queued; `active`: those already waiting or running."""

    def begin_step(self) -> list[Sequence]:
        """Before a step is scheduled: running sequences to preempt now (slots given away to
        waiting ones that cannot wait)."""
        return []

    def order(self, waiting: deque[Sequence]) -> deque[Sequence]:
        """The waiting queue in the order this policy admits it (FCFS: arrival, preempted first)."""
        return waiting

    def wants_step(self, seq: Sequence) -> bool:
        """Whether a running sequence is computed this step (FCFS: always)."""
        return True

    def blocked(self, seq: Sequence) -> Sequence | None:
        """`seq` heads the queue and cannot be admitted: a running sequence to swap out for it."""
        return None

    def preempted(self, seq: Sequence) -> None:
        """`seq` was preempted, for any reason."""

    def relax(self) -> bool:
        """Nothing was scheduled although sequences run: True to schedule again with every
        running sequence stepped (work-conserving)."""
        return False

    def end_step(self) -> None:
        """The step's schedule is made (undo what begin_step or relax set for it)."""

    def observe_step(self, batch: ScheduledBatch, seconds: float) -> None:
        """The engine ran `batch` in `seconds`."""

    def finished(self, seq: Sequence) -> None:
        """`seq` finished (stop, length or abort)."""

    def stats(self) -> dict[str, float]:
        """Counters for /metrics and benches (name -> value)."""
        return {}
