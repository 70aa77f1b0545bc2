"""Scheduling for the phase split: a prefill batch and a decode batch, each on its own worker.

The FCFS scheduler's rules (admission, chunked prefill, preemption of the newest) with two
changes. A step is of one phase: "decode" picks the running sequences with one pending token
and admits nobody (no prefill budget); "prefill" continues chunked prefills and admits
waiting requests. And a sequence whose step is in flight on a worker is neither scheduled
again nor preempted: its blocks stay put until its result is back. The engine process is
the only one that allocates or frees, so no block is ever handed to two live sequences.

A sequence whose prefill finishes simply becomes a decoding sequence: same Sequence, same
block table, its K/V where the prefill worker wrote it.
"""

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.scheduler import ScheduledBatch, Scheduler
from gpu_backend.engine.sequence import Sequence

PHASES = ("prefill", "decode")


class PhaseScheduler(Scheduler):
    def __init__(self, block_manager: BlockManager, max_running: int, max_prefill_tokens: int) -> None:
        super().__init__(block_manager, max_running, max_prefill_tokens, swapper=None)
        self.in_flight: set[int] = set()  # seq ids whose step a worker is computing
        self._phase: str | None = None

    def schedule_phase(self, phase: str) -> ScheduledBatch | None:
        """The next batch of `phase` among sequences not in flight (None: nothing to run);
        its sequences count as in flight until `complete` is called."""
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
        self._phase = phase
        try:
            batch = self.schedule()
        finally:
            self._phase = None
        if batch is not None:
            self.in_flight.update(seq.seq_id for seq in batch.seqs)
        return batch

    def complete(self, batch: ScheduledBatch) -> None:
        self.in_flight.difference_update(seq.seq_id for seq in batch.seqs)

    def prefill_budget(self) -> int:
        return self.max_prefill_tokens if self._phase == "prefill" else 0

    def wants_step(self, seq: Sequence) -> bool:
        if seq.seq_id in self.in_flight:
            return False
        decoding = seq.num_pending_tokens <= 1
        return decoding == (self._phase == "decode")

    def _victim(self, seq: Sequence, num_tokens: int) -> Sequence | None:
        """As the FCFS rule, but the victim is the newest sequence not in flight; when only
        `seq` is left to give up, it waits (None) for the in-flight steps to finish instead."""
        victim = [s for s in self.running if s.seq_id not in self.in_flight][-1]  # `seq` is idle: never empty
        if victim is seq:
            if len(self.running) == 1:
                raise RuntimeError(f"{num_tokens} tokens do not fit in the whole KV pool")
            if self.in_flight:
                return None
        return victim

    def finish(self, seq, reason) -> None:
        if seq.seq_id in self.in_flight:
            raise RuntimeError(f"sequence {seq.seq_id} is in flight on a worker; finish it after its step")
        super().finish(seq, reason)
