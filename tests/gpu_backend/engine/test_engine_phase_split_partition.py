"""The phase split's capability check, SM bookkeeping and controller on SMs, with a fake GPU."""

import logging

import pytest
import torch
from fake_gpu import FakeGpu

from gpu_backend.engine import EngineConfig
from gpu_backend.engine.phase_split.controller import (
    RequestObservation,
    SplitController,
)
from gpu_backend.engine.phase_split.partition import (
    GpuSplit,
    PartitionChoice,
    choose_partition,
    default_sm_split,
    percent_candidates,
    sm_candidates,
)
from gpu_backend.engine.phase_split.placement import (
    GreenContextPlacement,
    MpsPlacement,
    ThreadPlacement,
)
from gpu_backend.engine.phase_split.setup import phase_split_setup
from gpu_backend.engine.phase_split.sm_partitions import SmPartitions
from gpu_backend.engine.phase_split.split import (
    PhaseSplit,
    candidate_splits,
    default_split,
)
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.errors import InvalidConfig, PartitionUnavailable

CUDA = torch.device("cuda", 0)  # only compared by type: nothing here touches a GPU


def test_capability_check_chooses_per_machine_and_says_why():
    assert choose_partition("auto", "cpu", None).kind == "threads"
    green = choose_partition("auto", "cuda", FakeGpu(green=True, mps=True))
    assert green.kind == "green_context" and "132 SMs" in green.reason
    mps = choose_partition("auto", "cuda", FakeGpu(green=False, mps=True))
    assert mps.kind == "mps" and "fake torch has none" in mps.reason and "MPS daemon runs" in mps.reason
    assert choose_partition("mps", "cuda", FakeGpu(green=True, mps=True)).kind == "mps"


@pytest.mark.parametrize("wanted, device, gpu, names", [
    ("green_context", "cpu", None, "needs a CUDA GPU"),
    ("green_context", "cuda", FakeGpu(green=False, mps=True), "fake torch has none"),  # not silently MPS
    ("mps", "cuda", FakeGpu(green=True, mps=False), "no fake MPS daemon"),
    ("auto", "cuda", FakeGpu(green=False, mps=False), "no SM partition"),
    ("threads", "cuda", FakeGpu(), "the model is on a GPU"),
])
def test_an_unavailable_partition_is_a_named_error(wanted, device, gpu, names):
    with pytest.raises(PartitionUnavailable, match=names):
        choose_partition(wanted, device, gpu)


def test_unknown_partition_kind_is_rejected_by_the_config():
    with pytest.raises(InvalidConfig, match="phase_split_partition"):
        EngineConfig(phase_split=True, phase_split_partition="tensor_cores")


def test_sm_candidates_sit_on_the_granule_within_the_device():
    hopper = FakeGpu(sm_count=132, min_sms=8, sm_alignment=8)
    candidates = sm_candidates(hopper)
    assert [c.prefill for c in candidates] == list(range(8, 121, 8))
    assert all(c.prefill + c.decode == 128 and c.decode % 8 == 0 and c.decode >= 8 for c in candidates)
    assert default_sm_split(hopper) == GpuSplit(64, 64)
    ampere = FakeGpu(sm_count=108, min_sms=4, sm_alignment=2)
    assert sm_candidates(ampere)[0] == GpuSplit(4, 104) and len(sm_candidates(ampere)) == 51
    with pytest.raises(PartitionUnavailable, match="too few"):
        default_sm_split(FakeGpu(sm_count=12, min_sms=8, sm_alignment=8))
    assert [c.prefill for c in percent_candidates()] == list(range(10, 100, 10))


def test_a_move_rebuilds_only_the_partitions_that_change():
    gpu = FakeGpu()
    partitions = SmPartitions(gpu, GpuSplit(64, 64))
    assert gpu.calls == [("create", 64), ("create", 64)]
    retired = partitions.move(GpuSplit(96, 32))
    assert gpu.calls[2:] == [("create", 96), ("create", 32)]  # nothing destroyed while a step may run on it
    assert {p: h.num_sms for p, h in retired.items()} == {"prefill": 64, "decode": 64}
    for held in retired.values():
        partitions.release(held)
    assert sorted(p.num_sms for p in gpu.live) == [32, 96]
    assert partitions.stats() == {"prefill": 96, "decode": 32, "failures": []}
    partitions.close()
    assert gpu.live == []


@pytest.mark.parametrize("split, names", [(GpuSplit(60, 68), "multiples of 8"), (GpuSplit(72, 64), "more than"),
                                          (GpuSplit(4, 124), "at least 8")])
def test_a_split_off_the_granule_or_over_the_device_creates_nothing(split, names):
    gpu = FakeGpu()
    partitions = SmPartitions(gpu, GpuSplit(64, 64))
    with pytest.raises(InvalidConfig, match=names):
        partitions.move(split)
    assert len(gpu.calls) == 2 and partitions.split == GpuSplit(64, 64)


def test_a_failed_creation_keeps_the_held_partitions_and_logs_why(caplog):
    gpu = FakeGpu(fail_sms=(32,))
    partitions = SmPartitions(gpu, GpuSplit(64, 64))
    held = dict(partitions.held)
    with caplog.at_level(logging.WARNING):
        assert partitions.move(GpuSplit(96, 32)) is None
    assert partitions.held == held and partitions.split == GpuSplit(64, 64)
    assert sorted(p.num_sms for p in gpu.live) == [64, 64]  # the 96 just built was destroyed again
    assert "the decode partition failed" in caplog.text and "invalid resource configuration" in caplog.text
    [failure] = partitions.stats()["failures"]
    assert failure.startswith(str(GpuSplit(96, 32))) and "the decode partition failed" in failure


def observe(controller, split, ttft, tpot, count=8, at=100.0):
    for i in range(count):
        controller.requests.append(RequestObservation(at + i * 0.01, RequestSLO(ttft_s=1.0, tpot_s=0.1),
                                                      ttft, tpot, 20, split))


def test_controller_moves_sms_on_the_granule_toward_the_missing_phase():
    gpu = FakeGpu()
    controller = SplitController(sm_candidates(gpu), gpu.sm_count, disjoint=True)
    for phase in ("prefill", "decode"):  # both phases scale linearly with their SMs
        for sms in (32, 64, 96):
            controller.models[phase].observe(8, 0.1 * 64 / sms, sms)
    even = GpuSplit(64, 64)
    observe(controller, even, ttft=1.2, tpot=0.05)  # TTFT misses by 20%, TPOT at half its SLO
    new = controller.decide(even, now=101.0)
    assert new.prefill > 64 and new.prefill % 8 == 0 and new.prefill + new.decode <= gpu.sm_count
    assert new.decode >= gpu.min_sms  # the phase it takes from keeps its smallest partition at least
    # disjoint partitions: a phase's compute is its own SMs, whatever the other phase does
    assert controller._cores("prefill", new) == new.prefill
    assert controller.decide(new, now=102.0) is None  # dwell time holds it


def test_on_a_cpu_the_setup_is_todays_thread_split():
    setup = phase_split_setup("auto", torch.device("cpu"), 4, None, True, None)
    assert isinstance(setup.placement, ThreadPlacement) and setup.split == default_split(4)
    assert setup.controller.candidates == candidate_splits(4) and not setup.controller.disjoint
    assert phase_split_setup("threads", torch.device("cpu"), 2, (2, 1), True, None).split.threads("prefill") == 2


def test_on_a_gpu_the_setup_takes_green_contexts_at_half_the_sms():
    gpu = FakeGpu()
    setup = phase_split_setup("auto", CUDA, 16, None, True, gpu)
    assert isinstance(setup.placement, GreenContextPlacement) and setup.split == GpuSplit(64, 64)
    assert setup.controller.disjoint and setup.controller.candidates == sm_candidates(gpu)
    setup.placement.close()
    with pytest.raises(InvalidConfig, match="phase_split_threads"):
        phase_split_setup("auto", CUDA, 16, (2, 1), True, gpu)


def test_failed_green_contexts_fall_back_to_mps_only_when_auto(caplog):
    gpu = FakeGpu(mps=True, fail_sms=(64,))
    with caplog.at_level(logging.WARNING):
        setup = phase_split_setup("auto", CUDA, 16, None, True, gpu)
    assert isinstance(setup.placement, MpsPlacement) and setup.split == GpuSplit(50, 50, "%")
    assert "green contexts failed" in setup.placement.choice.reason and "falling back to MPS" in caplog.text
    assert gpu.live == []
    with pytest.raises(PartitionUnavailable, match="could not create green contexts"):
        phase_split_setup("green_context", CUDA, 16, None, True, gpu)


def test_a_split_in_the_wrong_unit_is_refused_before_anything_is_built():
    gpu = FakeGpu()
    placement = GreenContextPlacement(PartitionChoice("green_context", "fake"), gpu, GpuSplit(64, 64))
    for wrong in (GpuSplit(70, 30, "%"), PhaseSplit(2, 1)):
        with pytest.raises(InvalidConfig, match="in SMs"):
            placement.move({}, wrong)
    assert gpu.calls == [("create", 64), ("create", 64)]
    with pytest.raises(InvalidConfig, match="percentage"):
        MpsPlacement(PartitionChoice("mps", "fake"), GpuSplit(50, 50, "%")).move({}, GpuSplit(64, 64))
    placement.close()
