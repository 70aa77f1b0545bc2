"""Which compute partition the two phases run on, chosen by a capability check.

Three kinds, one per kind of machine:

- "threads": the CPU split of today (split.py): each worker process gets torch threads.
- "green_context": on a CUDA GPU whose torch offers `torch.cuda.green_contexts`, each phase
  launches its kernels on the stream of its own green context, a partition of the SMs;
  the split is in SMs, in the granules the device allows.
- "mps": on a CUDA GPU without green contexts but with an MPS daemon running, each phase
  is a worker process started with CUDA_MPS_ACTIVE_THREAD_PERCENTAGE; the split is in
  percent. The daemon is detected, never started.

`choose_partition` returns the kind and why; an explicit request the machine cannot meet
raises PartitionUnavailable with the reason, so it is never silently replaced.
"""

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from gpu_backend.errors import InvalidConfig, PartitionUnavailable

log = logging.getLogger(__name__)

KINDS = ("auto", "threads", "green_context", "mps")
MPS_PERCENT_STEP = 10  # MPS takes any percentage; coarser steps keep the controller's candidates few


class DeviceCapability(Protocol):
    """What the partition layer asks of a GPU (cuda_device.py on a real one, a fake in tests)."""

    name: str
    sm_count: int
    min_sms: int  # the smallest green-context partition
    sm_alignment: int  # a partition's SM count is a multiple of this

    def green_contexts(self) -> tuple[bool, str]: ...

    def mps_daemon(self) -> tuple[bool, str]: ...

    def create_partition(self, num_sms: int) -> Any: ...

    def destroy_partition(self, partition: Any) -> None: ...

    def run_on(self, partition: Any) -> AbstractContextManager[None]:
        """Run the kernels launched inside on `partition` and wait for them at the end."""


@dataclass(frozen=True)
class PartitionChoice:
    kind: str  # "threads", "green_context" or "mps"
    reason: str


@dataclass(frozen=True, order=True)
class GpuSplit:
    """A GPU split: SMs (green contexts) or active-thread percent (MPS) per phase."""

    prefill: int
    decode: int
    unit: str = "SMs"

    def __post_init__(self) -> None:
        if self.prefill < 1 or self.decode < 1:
            raise InvalidConfig(f"each phase needs some of the GPU, got {self}")

    def share(self, phase: str) -> int:
        return self.prefill if phase == "prefill" else self.decode

    def other(self, phase: str) -> int:
        return self.decode if phase == "prefill" else self.prefill

    def __str__(self) -> str:
        return f"prefill {self.prefill} / decode {self.decode} {self.unit}"


def choose_partition(wanted: str, device_type: str, capability: DeviceCapability | None) -> PartitionChoice:
    """The partition for `wanted` ("auto" or a kind) on a model on `device_type`."""
    if wanted not in KINDS:
        raise InvalidConfig(f"phase_split_partition must be one of {', '.join(KINDS)}, got {wanted!r}")
    if device_type == "cpu":
        if wanted not in ("auto", "threads"):
            raise PartitionUnavailable(f"phase_split_partition={wanted} needs a CUDA GPU; the model is on the CPU")
        return PartitionChoice("threads", "the model is on the CPU: worker processes split its threads")
    if capability is None or device_type != "cuda":
        raise PartitionUnavailable(f"the phase split on {device_type} needs CUDA (green contexts or MPS)")
    if wanted == "threads":
        raise PartitionUnavailable("phase_split_partition=threads splits CPU threads; the model is on a GPU")
    green, green_why = capability.green_contexts()
    mps, mps_why = capability.mps_daemon()
    if wanted in ("auto", "green_context") and green:
        return PartitionChoice("green_context", f"{green_why}; {capability.sm_count} SMs on {capability.name}")
    if wanted == "green_context":
        raise PartitionUnavailable(f"phase_split_partition=green_context: {green_why}")
    if mps:
        return PartitionChoice("mps", f"{mps_why}" if wanted == "mps" else f"{green_why}; {mps_why}")
    raise PartitionUnavailable(f"no SM partition on {capability.name}: {green_why}; {mps_why}")


def sm_candidates(capability: DeviceCapability) -> list[GpuSplit]:
    """Every split of the usable SMs into two partitions the device allows."""
    step, low = capability.sm_alignment, round_up(capability.min_sms, capability.sm_alignment)
    usable = capability.sm_count // step * step
    return [GpuSplit(p, usable - p) for p in range(low, usable - low + 1, step)]


def default_sm_split(capability: DeviceCapability) -> GpuSplit:
    """About half the SMs each, on the device's granule."""
    candidates = sm_candidates(capability)
    if not candidates:
        raise PartitionUnavailable(
            f"{capability.name} has {capability.sm_count} SMs: too few for two partitions "
            f"of at least {capability.min_sms}"
        )
    return min(candidates, key=lambda split: (abs(split.prefill - split.decode), -split.decode))


def percent_candidates() -> list[GpuSplit]:
    return [GpuSplit(p, 100 - p, "%") for p in range(MPS_PERCENT_STEP, 100, MPS_PERCENT_STEP)]


def check_sm_split(split: GpuSplit, capability: DeviceCapability) -> None:
    """A split the device can hold: both partitions on the granule, together within its SMs."""
    if split.unit != "SMs":
        raise InvalidConfig(f"a green-context split is in SMs, got {split}")
    for phase in ("prefill", "decode"):
        sms = split.share(phase)
        if sms < capability.min_sms or sms % capability.sm_alignment:
            raise InvalidConfig(
                f"{phase} gets {sms} SMs; {capability.name} partitions take at least "
                f"{capability.min_sms} SMs in multiples of {capability.sm_alignment}"
            )
    if split.prefill + split.decode > capability.sm_count:
        raise InvalidConfig(f"{split} is more than the {capability.sm_count} SMs of {capability.name}")


def round_up(value: int, step: int) -> int:
    return -(-value // step) * step
