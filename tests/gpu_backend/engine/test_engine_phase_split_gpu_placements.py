"""The phase-split engine on its GPU placements, run on the CPU: green contexts of a fake GPU
(the stream workers run each step inside the fake's partition) and MPS worker processes (the
percentage is only an environment variable on a CPU). Outputs must match the unified engine
through moves of the split, and no move may touch the KV pool."""

import logging
import os
from pathlib import Path

import pytest
from engine_support import tiny_engine
from fake_gpu import FakeGpu

from gpu_backend.engine import SamplingParams
from gpu_backend.engine.phase_split.controller import FixedSplit
from gpu_backend.engine.phase_split.engine import PhaseSplitEngine
from gpu_backend.engine.phase_split.mps_worker import MPS_PERCENT_VARIABLE
from gpu_backend.engine.phase_split.partition import GpuSplit, PartitionChoice
from gpu_backend.engine.phase_split.placement import GreenContextPlacement, MpsPlacement

GREEDY = SamplingParams(max_tokens=8, temperature=0, ignore_eos=True)
POOL_BYTES = 24 * 8 * 1024
TEXTS = ["Hello there", "The capital of France is", "One two three four five six seven eight nine ten",
         "A longer prompt about paged attention and radix trees, long enough for two prefill chunks of it."]


@pytest.fixture(scope="module")
def prompts(smollm2) -> list[list[int]]:
    return [smollm2.tokenizer.encode(text) for text in TEXTS]


@pytest.fixture(scope="module")
def unified(smollm2, prompts) -> list[list[int]]:
    engine = tiny_engine(smollm2.tokenizer, kv_budget_bytes=POOL_BYTES, max_prefill_tokens=32)
    return [c.token_ids for c in engine.generate(prompts, GREEDY)]


def split_engine(smollm2, placement_of, split: GpuSplit) -> PhaseSplitEngine:
    core = tiny_engine(smollm2.tokenizer, kv_budget_bytes=POOL_BYTES, max_prefill_tokens=32)
    return PhaseSplitEngine(core, split, FixedSplit(), placement_of(split))


def run_with_moves(engine, prompts, splits) -> list[list[int]]:
    seqs = [engine.add_request(p, GREEDY) for p in prompts]
    steps = 0
    while any(not s.is_finished for s in seqs):
        engine.step()
        steps += 1
        if steps % 3 == 0:
            engine.set_split(splits[(steps // 3) % len(splits)])
    return [s.output_token_ids for s in seqs]


def test_green_context_moves_keep_outputs_and_never_touch_the_kv_pool(smollm2, prompts, unified):
    gpu = FakeGpu()
    choice = PartitionChoice("green_context", "fake")
    engine = split_engine(smollm2, lambda split: GreenContextPlacement(choice, gpu, split), GpuSplit(64, 64))
    pool, k_cache, k_pointer = engine.pool, engine.pool.k_cache, engine.pool.k_cache.data_ptr()
    try:
        outputs = run_with_moves(engine, prompts, [GpuSplit(96, 32), GpuSplit(32, 96), GpuSplit(64, 64)])
        assert outputs == unified
        assert len(engine.split_log) >= 2
        assert engine.pool is pool and engine.pool.k_cache is k_cache and k_cache.data_ptr() == k_pointer
        for split in (GpuSplit(96, 32), GpuSplit(120, 8)):
            engine.set_split(split)
            already = len(gpu.ran_on)
            engine.generate([prompts[0] + [100 + already]], GREEDY)  # a new prompt: both phases step
            held = engine.placement.partitions.held
            assert {id(held[phase].handle) for phase in held} <= {id(p) for p in gpu.ran_on[already:]}
            assert {p.num_sms for p in gpu.ran_on[already:]} == {split.prefill, split.decode}
        assert engine.worker_threads == {"prefill": 120, "decode": 8}
        stats = engine.phase_split_stats()
        assert (stats["partition"], stats["unit"], stats["prefill"], stats["sms"]["decode"]) == (
            "green_context", "SMs", 120, 8)
        # held: the current two; retired ones are destroyed once their worker switched
        assert sorted(p.num_sms for p in gpu.live) == [8, 120]
    finally:
        engine.close()
    assert gpu.live == []


def test_a_refused_green_context_move_keeps_the_split(smollm2, prompts, unified, caplog):
    gpu = FakeGpu(fail_sms=(32,))
    choice = PartitionChoice("green_context", "fake")
    engine = split_engine(smollm2, lambda split: GreenContextPlacement(choice, gpu, split), GpuSplit(64, 64))
    try:
        with caplog.at_level(logging.WARNING):
            assert engine.set_split(GpuSplit(96, 32)) is False
        assert engine.split == GpuSplit(64, 64) and engine.split_log == []
        assert "refused" in caplog.text and "the decode partition failed" in caplog.text
        assert [c.token_ids for c in engine.generate(prompts, GREEDY)] == unified
        assert {p.num_sms for p in gpu.ran_on} == {64}
    finally:
        engine.close()


def environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(pair.decode().split("=", 1) for pair in pairs if b"=" in pair)


@pytest.mark.slow  # four worker processes spawned (about 25 s each on the loaded 2-core machine)
def test_mps_workers_restart_at_their_new_percentage(smollm2, prompts, unified):
    choice = PartitionChoice("mps", "fake daemon")
    engine = split_engine(smollm2, lambda split: MpsPlacement(choice, split), GpuSplit(50, 50, "%"))
    try:
        first = dict(engine.worker_pids)
        assert {environ(pid)[MPS_PERCENT_VARIABLE] for pid in first.values()} == {"50"}
        assert engine.set_split(GpuSplit(70, 30, "%"))
        assert [c.token_ids for c in engine.generate(prompts, GREEDY)] == unified
        moved = engine.worker_pids
        assert all(moved[phase] != first[phase] for phase in first)
        assert environ(moved["prefill"])[MPS_PERCENT_VARIABLE] == "70"
        assert environ(moved["decode"])[MPS_PERCENT_VARIABLE] == "30"
        assert engine.worker_threads == {"prefill": 70, "decode": 30}
    finally:
        engine.close()
    assert MPS_PERCENT_VARIABLE not in os.environ  # only the workers' environment had it
