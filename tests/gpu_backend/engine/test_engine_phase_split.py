"""The phase-split engine with its two real worker processes: shared storage, prefill-to-decode
handoff with the same blocks, allocation safety while both workers compute, split changes
mid-run and aborts of in-flight requests, all against the unified engine's greedy outputs."""

import pytest
from engine_support import tiny_engine, tiny_model

from gpu_backend.engine import EngineConfig, SamplingParams
from gpu_backend.build import build_engine
from gpu_backend.engine.phase_split import PhaseSplit
from gpu_backend.engine.phase_split.process import mapped_files, mapping_inode

GREEDY = SamplingParams(max_tokens=10, temperature=0, ignore_eos=True)
# A small pool (8 KiB blocks of the tiny model: 24 blocks, 384 tokens) so that a handful of
# concurrent requests runs it out and preemption happens while both workers compute.
POOL_BYTES = 24 * 8 * 1024


@pytest.fixture(scope="module")
def engine(smollm2):
    engine = build_engine(tiny_model(), smollm2.tokenizer, EngineConfig(
        kv_budget_bytes=POOL_BYTES, phase_split=True, num_threads=2, max_prefill_tokens=32,
        phase_split_controller=False))
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def prompts(smollm2) -> list[list[int]]:
    texts = ["Hello there", "The capital of France is", "One two three four five six seven eight nine ten",
             "A longer prompt about paged attention, radix trees and continuous batching in serving engines, "
             "long enough to take several sixteen-token blocks and two prefill chunks.",
             "Short one", "Another question about the weather in a city by the sea, asked politely"]
    return [smollm2.tokenizer.encode(text) for text in texts]


@pytest.fixture(scope="module")
def unified(smollm2, prompts) -> list[list[int]]:
    engine = tiny_engine(smollm2.tokenizer, kv_budget_bytes=POOL_BYTES, max_prefill_tokens=32)
    return [c.token_ids for c in engine.generate(prompts, GREEDY)]


def test_workers_map_the_same_weights_and_kv_pool(engine):
    """Same storage, not a copy: each worker maps the very shared-memory file (same inode)
    that holds the parent's KV pool and weights, and sees a write the parent makes."""
    for tensor in (engine.pool.k_cache, engine.pool.v_cache, engine.model.embed_tokens,
                   engine.model.layers[0].qkv_proj):
        inode = mapping_inode(tensor.data_ptr())
        assert inode != 0 and inode in mapped_files()
        for pid in engine.worker_pids.values():
            assert inode in mapped_files(pid)
    block = engine.pool.num_blocks - 1
    saved = engine.pool.k_cache[:, block].clone()
    try:
        engine.pool.k_cache[:, block] = 0.5
        expected = float(engine.pool.k_cache[:, block].sum())
        for worker in engine.workers.values():
            pid, sums = worker.inspect([block])
            assert sums == [pytest.approx(expected)] and pid == engine.worker_pids[worker.phase]
    finally:
        engine.pool.k_cache[:, block] = saved


def test_outputs_match_unified_engine(engine, prompts, unified):
    assert [c.token_ids for c in engine.generate(prompts, GREEDY)] == unified


def test_prefill_hands_over_to_decode_with_the_same_blocks(engine, smollm2, monkeypatch):
    """The first decode step of a request uses the block ids its prefill chunks wrote to."""
    scheduled = []
    original = engine.scheduler.schedule_phase

    def spy(phase):
        batch = original(phase)
        if batch is not None:
            scheduled.append((phase, {s.seq_id: list(s.block_table) for s in batch.seqs}))
        return batch

    monkeypatch.setattr(engine.scheduler, "schedule_phase", spy)
    prompt = smollm2.tokenizer.encode("A fresh prompt that nobody cached, " * 8)
    chunks = -(-len(prompt) // 32)
    assert chunks >= 2
    seq = engine.add_request(prompt, GREEDY)
    while not seq.is_finished:
        engine.step()
    mine = [(phase, tables[seq.seq_id]) for phase, tables in scheduled if seq.seq_id in tables]
    phases = [phase for phase, _ in mine]
    assert phases == ["prefill"] * chunks + ["decode"] * (GREEDY.max_tokens - 1)
    last_prefill_table, first_decode_table = mine[chunks - 1][1], mine[chunks][1]
    assert first_decode_table[: len(last_prefill_table)] == last_prefill_table


def test_allocation_is_safe_while_both_workers_run(engine, prompts, unified):
    """Many requests on a small pool (preemption happens): after every step, no block is held by
    two live sequences beyond its reference count, and no in-flight sequence's block is free."""
    allocator = engine.pool.allocator
    preemptions = engine.scheduler.num_preemptions
    # Whether a wave runs the pool dry depends on which worker finishes first: up to five waves.
    for _ in range(5):
        seqs = [engine.add_request(p, GREEDY) for p in prompts * 3]
        while any(not s.is_finished for s in seqs):
            engine.step()
            holders: dict[int, int] = {}
            for seq in engine.scheduler.running:
                for block in seq.block_table:
                    holders[block] = holders.get(block, 0) + 1
            for block, count in holders.items():
                assert allocator.ref_count(block) >= count
            live = {s.seq_id for s in engine.scheduler.running}
            assert engine.scheduler.in_flight <= live
        assert [s.output_token_ids for s in seqs] == unified * 3
        if engine.scheduler.num_preemptions > preemptions:
            break
    assert engine.scheduler.num_preemptions > preemptions


def test_split_changes_mid_run_keep_outputs_identical(engine, prompts, unified):
    splits = [PhaseSplit(2, 1), PhaseSplit(1, 2), PhaseSplit(1, 1)]
    seqs = [engine.add_request(p, GREEDY) for p in prompts]
    steps = 0
    while any(not s.is_finished for s in seqs):
        engine.step()
        steps += 1
        if steps % 4 == 0:
            engine.set_split(splits[(steps // 4) % len(splits)])
    assert [s.output_token_ids for s in seqs] == unified
    assert len(engine.split_log) >= 2
    engine.set_split(PhaseSplit(2, 1))
    engine.generate(prompts[:2], GREEDY)  # both workers step after the message
    assert engine.worker_threads == {"prefill": 2, "decode": 1}


def test_abort_of_an_in_flight_request_frees_after_its_step(engine, prompts, smollm2):
    """A step returns once one worker is done; the other's requests are still in flight."""
    long_prompt = smollm2.tokenizer.encode("Yet another long uncached prompt, " * 12)
    seqs = [engine.add_request(p, GREEDY) for p in prompts[:3]] + [engine.add_request(long_prompt, GREEDY)]
    in_flight = []
    while not in_flight and engine.has_unfinished():
        engine.step()
        in_flight = [s for s in seqs if s.seq_id in engine.scheduler.in_flight]
    victim = in_flight[0]
    assert engine.abort(victim.seq_id) is None  # deferred: its step is in flight
    while engine.has_unfinished():
        engine.step()
    assert victim.is_finished and victim.finish_reason.value == "abort" and victim.block_table == []
    radix = engine.block_manager.radix
    assert engine.pool.allocator.num_used == radix.cached_blocks


def test_stats_say_the_cpu_split_is_on_threads_and_why(engine):
    stats = engine.phase_split_stats()
    assert (stats["partition"], stats["unit"]) == ("threads", "threads")
    assert "the model is on the CPU" in stats["partition_reason"]
    assert stats["prefill"] + stats["decode"] >= 2
