"""The phase split's parts for one machine: the placement the capability check chose, the
split it starts at, and the candidate splits the controller moves among."""

import logging
from dataclasses import dataclass

import torch

from gpu_backend.engine.phase_split.controller import FixedSplit, Split, SplitController
from gpu_backend.engine.phase_split.partition import (
    DeviceCapability,
    PartitionChoice,
    choose_partition,
    default_sm_split,
    percent_candidates,
    sm_candidates,
)
from gpu_backend.engine.phase_split.placement import (
    GreenContextPlacement,
    MpsPlacement,
    Placement,
    ThreadPlacement,
)
from gpu_backend.engine.phase_split.split import (
    PhaseSplit,
    candidate_splits,
    default_split,
)
from gpu_backend.errors import InvalidConfig, PartitionUnavailable

log = logging.getLogger(__name__)


@dataclass
class SplitSetup:
    placement: Placement
    split: Split
    controller: SplitController | FixedSplit


def phase_split_setup(
    wanted: str,
    device: torch.device,
    cores: int,
    threads: tuple[int, int] | None,
    with_controller: bool,
    capability: DeviceCapability | None,
) -> SplitSetup:
    """`wanted`: "auto" or a partition kind; `cores`: the CPU's (thread split); `threads`: a
    starting thread split (CPU only); `capability`: the GPU's partition layer (None on a CPU)."""
    choice = choose_partition(wanted, device.type, capability)
    if choice.kind == "threads":
        threads_split = PhaseSplit(*threads) if threads else default_split(cores)
        controller = SplitController(candidate_splits(cores), cores) if with_controller else FixedSplit()
        return SplitSetup(ThreadPlacement(choice, threads_split), threads_split, controller)
    if threads is not None:
        raise InvalidConfig("phase_split_threads sets the CPU split; on a GPU the split starts at half each")
    assert capability is not None  # choose_partition gives a GPU kind only with a capability
    if choice.kind == "green_context":
        try:
            return _green_context_setup(choice, capability, with_controller)
        except PartitionUnavailable as error:
            mps, mps_why = capability.mps_daemon()
            if wanted != "auto" or not mps:
                raise
            log.warning("phase split: green contexts failed (%s); falling back to MPS", error)
            choice = PartitionChoice("mps", f"green contexts failed ({error}); {mps_why}")
    split = percent_candidates()[len(percent_candidates()) // 2]
    controller = SplitController(percent_candidates(), 100, disjoint=True) if with_controller else FixedSplit()
    return SplitSetup(MpsPlacement(choice, split), split, controller)


def _green_context_setup(choice: PartitionChoice, capability: DeviceCapability, with_controller: bool) -> SplitSetup:
    split = default_sm_split(capability)
    placement = GreenContextPlacement(choice, capability, split)
    controller = (
        SplitController(sm_candidates(capability), capability.sm_count, disjoint=True)
        if with_controller
        else FixedSplit()
    )
    return SplitSetup(placement, split, controller)
