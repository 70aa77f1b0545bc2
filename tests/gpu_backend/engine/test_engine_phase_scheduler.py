"""PhaseScheduler on constructed cases: per-phase batches, nothing in flight rescheduled or
preempted, and random interleavings of two workers' steps with allocation, preemption and
finishes never hand one block to two live sequences (no model: the steps are simulated)."""

import random

import pytest

from gpu_backend.engine import FinishReason, SamplingParams
from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.scheduler import Scheduler
from gpu_backend.engine.scheduling_policy import RunQueues
from gpu_backend.engine.sequence import Sequence
from gpu_backend.kv import KVPool


def make_scheduler(num_blocks: int = 12, max_prefill_tokens: int = 8) -> Scheduler:
    pool = KVPool.create(num_blocks, num_layers=1, num_kv_heads=1, head_dim=4, block_size=4)
    return Scheduler(BlockManager(pool, enable_prefix_cache=True), RunQueues(8, max_prefill_tokens))


def complete(scheduler: Scheduler, batch, token: int = 7) -> None:
    """What the engine does when a worker returns `batch` (sampling replaced by `token`)."""
    scheduler.complete(batch)
    for seq, count in zip(batch.seqs, batch.num_new_tokens):
        seq.num_computed_tokens += count
        if count > 1:
            scheduler.block_manager.cache_computed_blocks(seq)
        if seq.num_pending_tokens == 0:
            seq.append_token(token, 0.0)


def test_decode_phase_admits_nobody_and_prefill_phase_skips_decoders():
    scheduler = make_scheduler()
    params = SamplingParams(max_tokens=4)
    first = Sequence(0, [1, 2, 3, 4, 5], params)
    scheduler.add(first)
    assert scheduler.schedule_phase("decode") is None and list(scheduler.waiting) == [first]
    prefill = scheduler.schedule_phase("prefill")
    assert prefill.seqs == [first] and prefill.num_new_tokens == [5]
    second = Sequence(1, [9, 8, 7], params)
    scheduler.add(second)
    assert scheduler.schedule_phase("prefill").seqs == [second]  # `first` is in flight
    with pytest.raises(RuntimeError, match="in flight"):
        scheduler.finish(first, FinishReason.ABORT)
    complete(scheduler, prefill)
    decode = scheduler.schedule_phase("decode")
    assert decode.seqs == [first] and decode.num_new_tokens == [1]


def test_in_flight_sequences_are_never_preempted():
    scheduler = make_scheduler(num_blocks=4, max_prefill_tokens=16)  # 16 token slots in all
    params = SamplingParams(max_tokens=8)
    old, new = Sequence(0, list(range(1, 8)), params), Sequence(1, list(range(20, 27)), params)
    scheduler.add(old)
    scheduler.add(new)
    complete(scheduler, scheduler.schedule_phase("prefill"))  # 7 tokens + 1 sampled, 2 blocks each
    complete(scheduler, scheduler.schedule_phase("decode"))  # now 9 tokens each: next step needs a 3rd block
    assert scheduler.block_manager.num_reclaimable_blocks == 0
    new_table = list(new.block_table)
    scheduler.in_flight.add(new.seq_id)  # the decode worker is computing `new`
    assert scheduler.schedule_phase("decode") is None  # `old` waits instead of preempting it
    assert scheduler.num_preemptions == 0 and new.block_table == new_table and new in scheduler.running
    scheduler.in_flight.discard(new.seq_id)  # its step is back: the FCFS rule applies again
    batch = scheduler.schedule_phase("decode")
    assert batch.seqs == [old] and scheduler.num_preemptions == 1 and list(scheduler.waiting) == [new]


def test_random_interleavings_never_share_a_live_block():
    rng = random.Random(0)
    for trial in range(30):
        scheduler = make_scheduler(num_blocks=rng.randint(6, 14), max_prefill_tokens=rng.choice([4, 8, 16]))
        allocator = scheduler.block_manager.allocator
        seqs = []
        for i in range(10):
            prompt = [rng.randint(1, 5) for _ in range(rng.randint(2, 12))]  # small alphabet: prefix hits
            seqs.append(Sequence(i, prompt, SamplingParams(max_tokens=rng.randint(1, 6))))
            scheduler.add(seqs[-1])
        flights: dict[str, tuple] = {}
        for _ in range(2000):
            if all(s.is_finished for s in seqs):
                break
            for phase in ("decode", "prefill"):
                if phase not in flights:
                    batch = scheduler.schedule_phase(phase)
                    if batch is not None:
                        flights[phase] = (batch, [list(s.block_table) for s in batch.seqs])
            holders: dict[int, int] = {}
            for seq in scheduler.running:
                for block in seq.block_table:
                    holders[block] = holders.get(block, 0) + 1
            assert all(allocator.ref_count(b) >= n for b, n in holders.items())
            if not flights:
                continue
            phase = rng.choice(sorted(flights))
            batch, tables = flights.pop(phase)
            for seq, table in zip(batch.seqs, tables):  # nobody touched its blocks meanwhile
                assert seq.block_table[: len(table)] == table and seq.status.value == "running"
            complete(scheduler, batch, token=rng.randint(1, 5))
            for seq in batch.seqs:
                if seq.num_output_tokens >= seq.params.max_tokens:
                    scheduler.finish(seq, FinishReason.LENGTH)
            idle = [s for s in scheduler.running if s.seq_id not in scheduler.in_flight]
            if idle and rng.random() < 0.05:
                scheduler.finish(rng.choice(idle), FinishReason.ABORT)
        assert all(s.is_finished for s in seqs), f"trial {trial} did not drain"
        radix = scheduler.block_manager.radix
        assert allocator.num_used == radix.cached_blocks
