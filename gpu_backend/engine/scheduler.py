"""Which sequences run in the next step, and how many of their tokens.

Continuous batching: sequences join (admission) and leave (finish, abort, preemption)
between any two steps. Every step carries one token for each decoding sequence plus up
to `max_prefill_tokens` prompt tokens (chunked prefill: a long prompt takes several
steps, another prompt fills what is left of the budget). Mixing them keeps decodes
going while new requests prefill, and reads the weights once for both.

When the pool runs out of blocks, unused cached prefixes are evicted first; then the
newest running sequence is preempted by recompute: its blocks go back (its computed full
blocks stay in the prefix cache, so recomputing is often a cache hit) and it waits at
the head of the queue.

A sequence admitted with KV on its way from the host (swapped out, or a cached prefix in
the prefix cache's host tier) holds its blocks but is stepped only once the copies are in.

What differs between FCFS, goodput, fair share and cache-aware admission is a policy
(engine/scheduling_policy.py) plugged in by the builder; this class only carries out their
choices. Swapping is the swapper's (engine/swapper.py; NoSwap: recompute).

The phase split (engine/phase_split/) asks for one phase's batch at a time
(`schedule_phase`): a decode batch admits nobody, a prefill batch skips decoding
sequences, and a batch's sequences stay in flight (a worker computes them) until
`complete`: meanwhile they are neither scheduled again nor preempted nor finished, so no
block is ever handed to two live sequences. The unified engine steps synchronously and
never has a sequence in flight.
"""

import time
from collections import deque
from collections.abc import Sequence as Policies

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.scheduled_batch import ScheduledBatch
from gpu_backend.engine.scheduling_policy import RunQueues, SchedulingPolicy
from gpu_backend.engine.sequence import FinishReason, Sequence, SequenceStatus
from gpu_backend.engine.swapper import NoSwap, Swapper
from gpu_backend.errors import InvalidConfig, KVPoolTooSmall, SchedulingError

__all__ = ["PHASES", "ScheduledBatch", "Scheduler"]

PHASES = ("prefill", "decode")


class Scheduler:
    def __init__(
        self,
        block_manager: BlockManager,
        queues: RunQueues,
        policies: Policies[SchedulingPolicy] = (),
        swapper: Swapper | NoSwap = NoSwap(),
    ) -> None:
        if queues.max_running < 1 or queues.max_prefill_tokens < 1:
            raise InvalidConfig("max_running and max_prefill_tokens must be positive")
        self.block_manager = block_manager
        self.queues = queues
        self.policies = list(policies)
        self.swapper = swapper
        self.num_preemptions = 0
        self.in_flight: set[int] = set()  # seq ids whose step a phase worker is computing

    @property
    def waiting(self) -> deque[Sequence]:
        return self.queues.waiting

    @property
    def running(self) -> list[Sequence]:
        return self.queues.running

    @property
    def max_running(self) -> int:
        return self.queues.max_running

    @property
    def max_prefill_tokens(self) -> int:
        return self.queues.max_prefill_tokens

    def add(self, seq: Sequence) -> None:
        active = [*self.waiting, *self.running]
        for policy in self.policies:
            policy.arrive(seq, active)
        self.waiting.append(seq)

    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def schedule(self, phase: str | None = None) -> ScheduledBatch | None:
        """One step's batch (None: nothing to run), as the policies want it; `phase`: only
        that phase's work (None: both, one mixed batch)."""
        try:
            for policy in self.policies:
                for victim in policy.begin_step():
                    self.preempt(victim)
            batch = self._schedule_once(phase)
            if batch is None and self.running:
                relaxed = [policy.relax() for policy in self.policies]  # every policy relaxes: no short circuit
                if any(relaxed):
                    batch = self._schedule_once(phase)
        finally:
            for policy in self.policies:
                policy.end_step()
        return batch

    def schedule_phase(self, phase: str) -> ScheduledBatch | None:
        """The next batch of `phase` among sequences not in flight (None: nothing to run);
        its sequences count as in flight until `complete` is called."""
        if phase not in PHASES:
            raise SchedulingError(f"phase must be one of {PHASES}, got {phase!r}")
        batch = self.schedule(phase)
        if batch is not None:
            self.in_flight.update(seq.seq_id for seq in batch.seqs)
        return batch

    def complete(self, batch: ScheduledBatch) -> None:
        """A phase worker has computed `batch`."""
        self.in_flight.difference_update(seq.seq_id for seq in batch.seqs)

    def order_waiting(self) -> None:
        """Put the waiting queue in admission order: each policy's order in turn."""
        for policy in self.policies:
            self.queues.waiting = policy.order(self.waiting)

    def observe_step(self, batch: ScheduledBatch, seconds: float) -> None:
        """The engine reports each step it ran and how long it took."""
        for policy in self.policies:
            policy.observe_step(batch, seconds)

    def stats(self) -> dict[str, float]:
        stats: dict[str, float] = {"preemptions": self.num_preemptions}
        for policy in self.policies:
            stats.update(policy.stats())
        return stats

    def _wants_step(self, seq: Sequence, phase: str | None) -> bool:
        if seq.seq_id in self.in_flight:
            return False
        if phase is not None and (seq.num_pending_tokens <= 1) != (phase == "decode"):
            return False
        return all(policy.wants_step(seq) for policy in self.policies)

    def _schedule_once(self, phase: str | None) -> ScheduledBatch | None:
        """Every running sequence either decodes one token or continues its chunked prefill,
        and waiting requests are admitted into what is left of the prefill budget. Decoding
        rows come first, shortest context first (the CPU attention pads groups of similar
        length only to their own longest)."""
        batch = ScheduledBatch([], [])
        budget = 0 if phase == "decode" else self.max_prefill_tokens  # a decode batch admits nobody
        self.swapper.poll()
        self.block_manager.poll()
        for seq in list(self.running):  # oldest first: they get this step's blocks and budget first
            if seq.status is not SequenceStatus.RUNNING:
                continue  # preempted by an older sequence in this loop
            if not self._wants_step(seq, phase) or not self._kv_ready(seq):
                continue
            count = 1 if seq.num_pending_tokens <= 1 else min(seq.num_pending_tokens, budget)
            if count == 0:
                continue
            if self._reserve_or_preempt(seq, seq.num_computed_tokens + count, batch):
                batch.seqs.append(seq)
                batch.num_new_tokens.append(count)
                budget -= count if count > 1 else 0
        self.order_waiting()
        while self.waiting and budget > 0:
            seq = self.waiting[0]
            swapped = seq.swapped is not None
            if len(self.running) >= self.max_running or not self._admit(seq, budget):
                self._preempt_for(seq, batch)
                break
            self.waiting.popleft()
            if swapped or seq.host_fetch is not None:
                continue  # its KV is on the way back from the host; it runs once there (running loop)
            count = min(seq.num_pending_tokens, budget)
            batch.seqs.append(seq)
            batch.num_new_tokens.append(count)
            budget -= count
        if not batch.seqs:
            return None
        rows = sorted(
            zip(batch.seqs, batch.num_new_tokens, strict=True),
            key=lambda row: (row[1] > 1, row[1] == 1 and row[0].num_tokens),
        )
        return ScheduledBatch([seq for seq, _ in rows], [count for _, count in rows])

    def _preempt_for(self, blocked: Sequence, batch: ScheduledBatch) -> None:
        """`blocked` could not be admitted: a policy may name a running sequence to swap out
        for it (the copy overlaps the next step; its blocks free after it)."""
        for policy in self.policies:
            victim = policy.blocked(blocked) if self.running else None
            if victim is not None:
                if victim in batch.seqs:
                    index = batch.seqs.index(victim)
                    del batch.seqs[index], batch.num_new_tokens[index]
                self.preempt(victim, wait=False)
                return

    def _admit(self, seq: Sequence, budget: int) -> bool:
        """Give a waiting sequence its cached prefix and the blocks for its first chunk.

        Admission never preempts: a new request waits for room rather than evict a
        running one. It also waits unless the pool could hold its whole prompt, which
        keeps many half-prefilled prompts from preempting each other in turn.
        """
        manager = self.block_manager
        manager.match_cached_prefix(seq)
        if seq.swapped is not None:
            return self._admit_swapped(seq)
        blocks_for_prompt = manager.blocks_for(seq.num_tokens) - len(seq.block_table)
        # With a prefix to fetch from the host, this step only starts the copies.
        first = (
            seq.host_fetch.num_tokens
            if seq.host_fetch is not None
            else seq.num_computed_tokens + min(seq.num_pending_tokens, budget)
        )
        if blocks_for_prompt > manager.num_reclaimable_blocks or not manager.reserve(seq, first):
            manager.release(seq)
            seq.num_computed_tokens = seq.num_cached_tokens = 0
            return False
        if seq.host_fetch is not None:
            manager.begin_host_fetch(seq)
        manager.record_admission(seq)
        seq.status = SequenceStatus.RUNNING
        self.running.append(seq)
        return True

    def _reserve_or_preempt(self, seq: Sequence, num_tokens: int, batch: ScheduledBatch) -> bool:
        """Blocks for `num_tokens` tokens of `seq`, preempting newer sequences (and taking
        them out of `batch`) if needed.

        False if `seq` itself had to go (it was the newest). A sequence alone always
        fits: the engine caps sequence length at the pool's size.
        """
        while not self.block_manager.reserve(seq, num_tokens):
            victim = self._victim(seq, num_tokens)
            if victim is None:
                return False
            self.preempt(victim)
            if victim in batch.seqs:
                index = batch.seqs.index(victim)
                del batch.seqs[index], batch.num_new_tokens[index]
            if victim is seq:
                return False
        return True

    def _victim(self, seq: Sequence, num_tokens: int) -> Sequence | None:
        """The sequence that gives up its blocks so `seq` can have `num_tokens` tokens: the
        newest running one not in flight (`seq` itself when it is the newest); None: `seq`
        waits instead, for the in-flight steps to finish."""
        victim = [s for s in self.running if s.seq_id not in self.in_flight][-1]  # `seq` is idle: never empty
        if victim is seq:
            if len(self.running) == 1:
                raise KVPoolTooSmall(f"{num_tokens} tokens do not fit in the whole KV pool")
            if self.in_flight:
                return None
        return victim

    def _kv_ready(self, seq: Sequence) -> bool:
        return self.block_manager.host_fetch_ready(seq) and self.swapper.ready(seq)

    def _admit_swapped(self, seq: Sequence) -> bool:
        if not self.swapper.begin_swap_in(seq):
            self.block_manager.release(seq)
            seq.num_computed_tokens = seq.num_cached_tokens = 0
            return False
        self.block_manager.record_admission(seq)
        seq.status = SequenceStatus.RUNNING
        self.running.append(seq)
        return True

    def preempt(self, seq: Sequence, wait: bool = True) -> None:
        """Stop a running sequence and queue it again: its KV is swapped to the host when
        there is a swapper with room (`wait`: free its blocks now), else recomputed later."""
        self.running.remove(seq)
        self.block_manager.host_fetch_ready(seq, wait=True)
        self.swapper.settle(seq)
        if not self.swapper.swap_out(seq, wait):
            self.block_manager.release(seq)
        seq.num_computed_tokens = 0
        seq.status = SequenceStatus.WAITING
        seq.num_preemptions += 1
        self.num_preemptions += 1
        for policy in self.policies:
            policy.preempted(seq)
        self.waiting.appendleft(seq)

    def finish(self, seq: Sequence, reason: FinishReason) -> None:
        """Finish a waiting or running sequence and give back its blocks."""
        if seq.seq_id in self.in_flight:
            raise SchedulingError(f"sequence {seq.seq_id} is in flight on a worker; finish it after its step")
        self.swapper.cancel(seq)
        if seq.status is SequenceStatus.RUNNING:
            self.running.remove(seq)
            self.block_manager.release(seq)
        elif seq.status is SequenceStatus.WAITING:
            self.waiting.remove(seq)
        seq.finish(reason, time.monotonic())
        for policy in self.policies:
            policy.finished(seq)
