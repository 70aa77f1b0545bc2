"""Which sequences run in the next step, and how many of their tokens.

Continuous batching: sequences join (admission) and leave (finish, abort, preemption)
between any two steps. A step is either a prefill step, packing up to
`max_prefill_tokens` prompt tokens (chunked: a long prompt takes several steps,
another prompt fills what is left of the budget), or a decode step, one token for
every running sequence. Prefill steps go first, so new requests get their first token
soon and then decode together with the others.

When the pool runs out of blocks, unused cached prefixes are evicted first; then the
newest running sequence is preempted by recompute: its blocks go back (its computed full
blocks stay in the prefix cache, so recomputing is often a cache hit) and it waits at
the head of the queue.
"""

import time
from collections import deque
from dataclasses import dataclass

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.sequence import FinishReason, Sequence, SequenceStatus


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
    def __init__(self, block_manager: BlockManager, max_running: int, max_prefill_tokens: int) -> None:
        if max_running < 1 or max_prefill_tokens < 1:
            raise ValueError("max_running and max_prefill_tokens must be positive")
        self.block_manager = block_manager
        self.max_running = max_running
        self.max_prefill_tokens = max_prefill_tokens
        self.waiting: deque[Sequence] = deque()
        self.running: list[Sequence] = []  # in admission order: the newest is preempted first
        self.num_preemptions = 0

    def add(self, seq: Sequence) -> None:
        self.waiting.append(seq)

    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def schedule(self) -> ScheduledBatch | None:
        return self._schedule_prefill() or self._schedule_decode()

    def _schedule_prefill(self) -> ScheduledBatch | None:
        budget = self.max_prefill_tokens
        batch = ScheduledBatch([], [])
        # Sequences part-way through a chunked prefill continue first, oldest first.
        for seq in list(self.running):
            if budget == 0:
                break
            if seq.status is not SequenceStatus.RUNNING or seq.num_pending_tokens <= 1:
                continue
            count = min(seq.num_pending_tokens, budget)
            if self._reserve_or_preempt(seq, seq.num_computed_tokens + count):
                batch.seqs.append(seq)
                batch.num_new_tokens.append(count)
                budget -= count
        while self.waiting and budget > 0 and len(self.running) < self.max_running:
            seq = self.waiting[0]
            if not self._admit(seq, budget):
                break
            self.waiting.popleft()
            count = min(seq.num_pending_tokens, budget)
            batch.seqs.append(seq)
            batch.num_new_tokens.append(count)
            budget -= count
        return batch if batch.seqs else None

    def _admit(self, seq: Sequence, budget: int) -> bool:
        """Give a waiting sequence its cached prefix and the blocks for its first chunk.

        Admission never preempts: a new request waits for room rather than evict a
        running one. It also waits unless the pool could hold its whole prompt, which
        keeps many half-prefilled prompts from preempting each other in turn.
        """
        manager = self.block_manager
        manager.match_cached_prefix(seq)
        blocks_for_prompt = manager.blocks_for(seq.num_tokens) - len(seq.block_table)
        count = min(seq.num_pending_tokens, budget)
        if blocks_for_prompt > manager.num_reclaimable_blocks or not manager.reserve(
            seq, seq.num_computed_tokens + count
        ):
            manager.release(seq)
            seq.num_computed_tokens = seq.num_cached_tokens = 0
            return False
        manager.record_admission(seq)
        seq.status = SequenceStatus.RUNNING
        self.running.append(seq)
        return True

    def _schedule_decode(self) -> ScheduledBatch | None:
        batch = ScheduledBatch([], [])
        index = 0
        while index < len(self.running):
            seq = self.running[index]
            if self._reserve_or_preempt(seq, seq.num_tokens):
                batch.seqs.append(seq)
                batch.num_new_tokens.append(1)
                index += 1
        return batch if batch.seqs else None

    def _reserve_or_preempt(self, seq: Sequence, num_tokens: int) -> bool:
        """Blocks for `num_tokens` tokens of `seq`, preempting newer sequences if needed.

        False if `seq` itself had to go (it was the newest). A sequence alone always
        fits: the engine caps sequence length at the pool's size.
        """
        while not self.block_manager.reserve(seq, num_tokens):
            victim = self.running[-1]
            if victim is seq and len(self.running) == 1:
                raise RuntimeError(f"{num_tokens} tokens do not fit in the whole KV pool")
            self.preempt(victim)
            if victim is seq:
                return False
        return True

    def preempt(self, seq: Sequence) -> None:
        self.running.remove(seq)
        self.block_manager.release(seq)
        seq.num_computed_tokens = 0
        seq.status = SequenceStatus.WAITING
        seq.num_preemptions += 1
        self.num_preemptions += 1
        self.waiting.appendleft(seq)

    def finish(self, seq: Sequence, reason: FinishReason) -> None:
        """Finish a waiting or running sequence and give back its blocks."""
        if seq.status is SequenceStatus.RUNNING:
            self.running.remove(seq)
            self.block_manager.release(seq)
        elif seq.status is SequenceStatus.WAITING:
            self.waiting.remove(seq)
        seq.finish(reason, time.monotonic())
