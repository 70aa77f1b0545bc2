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
"""

import time
from collections import deque
from dataclasses import dataclass

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.fairness import TenantAccounting
from gpu_backend.engine.sequence import FinishReason, Sequence, SequenceStatus
from gpu_backend.engine.swapper import Swapper


@dataclass
class ScheduledBatch:
    seqs: list[Sequence]
    num_new_tokens: list[int]  # per sequence, in the same order

    @property
    def is_prefill(self) -> bool:
        return any(n > 1 for n in self.num_new_tokens)

    @property
    def num_tokens(self) -> int:
        return sum(self.num_new_tokens)


class Scheduler:
    def __init__(self, block_manager: BlockManager, max_running: int, max_prefill_tokens: int,
                 swapper: Swapper | None = None) -> None:
        if max_running < 1 or max_prefill_tokens < 1:
            raise ValueError("max_running and max_prefill_tokens must be positive")
        self.block_manager = block_manager
        # None: preemption by recompute; otherwise by swapping KV to the host pool.
        self.swapper = swapper
        # Set by the engine for per-tenant fair share (engine/fairness.py).
        self.fairness: TenantAccounting | None = None
        self.max_running = max_running
        self.max_prefill_tokens = max_prefill_tokens
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []  # in admission order: the newest is preempted first
        self.num_preemptions = 0
        # Optional cache-aware admission order (gpu_backend/kvshare/reuse_order.py), applied
        # after order_waiting: anything with `order(waiting) -> deque`.
        self.admission_order = None

    def add(self, seq: Sequence) -> None:
        if self.fairness is not None:
            self.fairness.arrive(seq.tenant, [s.tenant for s in (*self.waiting, *self.running)])
        self.waiting.append(seq)

    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def schedule(self) -> ScheduledBatch | None:
        """One step: every running sequence either decodes one token or continues its
        chunked prefill, and waiting requests are admitted into what is left of the
        prefill budget. Decoding rows come first, shortest context first (the CPU
        attention pads groups of similar length only to their own longest)."""
        batch = ScheduledBatch([], [])
        budget = self.prefill_budget()
        if self.swapper is not None:
            self.swapper.poll()
        self.block_manager.poll()
        for seq in self.ordered_running():
            if seq.status is not SequenceStatus.RUNNING:
                continue  # preempted by an older sequence in this loop
            if not self.wants_step(seq) or not self._kv_ready(seq):
                continue
            count = 1 if seq.num_pending_tokens <= 1 else min(seq.num_pending_tokens, budget)
            if count == 0:
                continue
            if self._reserve_or_preempt(seq, seq.num_computed_tokens + count, batch):
                batch.seqs.append(seq)
                batch.num_new_tokens.append(count)
                budget -= count if count > 1 else 0
        self.order_waiting()
        if self.admission_order is not None:
            self.waiting = self.admission_order.order(self.waiting)
        if self.fairness is not None:  # least-served tenant first; the order above within a tenant
            self.waiting = deque(sorted(self.waiting, key=lambda seq: self.fairness.share(seq.tenant)))
        while self.waiting and budget > 0:
            seq = self.waiting[0]
            swapped = seq.swapped is not None
            if len(self.running) >= self.max_running or not self._admit(seq, budget):
                self._preempt_for_fairness(seq, batch)
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
        rows = sorted(zip(batch.seqs, batch.num_new_tokens), key=lambda row: (row[1] > 1, row[1] == 1 and row[0].num_tokens))
        return ScheduledBatch([seq for seq, _ in rows], [count for _, count in rows])

    def _preempt_for_fairness(self, blocked: Sequence, batch: ScheduledBatch) -> None:
        """`blocked` could not be admitted: if a tenant far over its share runs, swap out its
        newest request (the copy overlaps the next step; its blocks free after it)."""
        if self.fairness is None or not self.running:
            return
        victim_tenant = max({seq.tenant for seq in self.running}, key=self.fairness.share)
        if not self.fairness.should_preempt(blocked.tenant, victim_tenant):
            return
        victim = next(seq for seq in reversed(self.running) if seq.tenant == victim_tenant)
        if victim in batch.seqs:
            index = batch.seqs.index(victim)
            del batch.seqs[index], batch.num_new_tokens[index]
        self.preempt(victim, wait=False)
        self.fairness.preemptions += 1

    def prefill_budget(self) -> int:
        """Prompt tokens this step may compute (0: a decode-only step, no admission)."""
        return self.max_prefill_tokens

    def ordered_running(self) -> list[Sequence]:
        """Running sequences in the order they get this step's blocks and prefill budget."""
        return list(self.running)  # oldest first

    def wants_step(self, seq: Sequence) -> bool:
        """Whether a running sequence gets computed this step (FCFS: always)."""
        return True

    def order_waiting(self) -> None:
        """Reorder the waiting queue before admission (FCFS: arrival order, preempted first)."""

    def observe_step(self, num_tokens: int, seconds: float) -> None:
        """The engine reports each step's size and duration (FCFS ignores it)."""

    def on_finish(self, seq: Sequence) -> None:
        """Called once a sequence has finished (for schedulers that learn from outcomes)."""

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
        first = (seq.host_fetch.num_tokens if seq.host_fetch is not None
                 else seq.num_computed_tokens + min(seq.num_pending_tokens, budget))
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
        newest running one (`seq` itself when it is the newest); None: `seq` waits instead."""
        victim = self.running[-1]
        if victim is seq and len(self.running) == 1:
            raise RuntimeError(f"{num_tokens} tokens do not fit in the whole KV pool")
        return victim

    def _kv_ready(self, seq: Sequence) -> bool:
        return self.block_manager.host_fetch_ready(seq) and (self.swapper is None or self.swapper.ready(seq))

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
        if self.swapper is not None:
            self.swapper.settle(seq)
        if self.swapper is None or not self.swapper.swap_out(seq, wait):
            self.block_manager.release(seq)
        seq.num_computed_tokens = 0
        seq.status = SequenceStatus.WAITING
        seq.num_preemptions += 1
        self.num_preemptions += 1
        if self.fairness is not None:
            self.fairness.record_preemption(seq.tenant)
        self.waiting.appendleft(seq)

    def finish(self, seq: Sequence, reason: FinishReason) -> None:
        """Finish a waiting or running sequence and give back its blocks."""
        if self.swapper is not None:
            self.swapper.cancel(seq)
        if seq.status is SequenceStatus.RUNNING:
            self.running.remove(seq)
            self.block_manager.release(seq)
        elif seq.status is SequenceStatus.WAITING:
            self.waiting.remove(seq)
        seq.finish(reason, time.monotonic())
        self.on_finish(seq)
