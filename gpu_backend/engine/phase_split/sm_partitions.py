"""Which green-context partition each phase holds, and moving them.

A move builds the new partitions first and only then hands them to the phases: if the
device refuses one (it ran out of SMs, the driver failed), the ones just built are
destroyed, the phases keep what they hold, and the reason is logged and kept, so a
failed move never leaves a phase without SMs. The KV pool is never touched: a partition
is compute only, and every partition's stream reads and writes the same device memory.

A replaced partition is retired, not destroyed: its phase may still have a step in flight
on its stream, so the worker destroys it (`release`) once it has switched.
"""

import logging
from dataclasses import dataclass
from typing import Any

from gpu_backend.engine.phase_split.partition import (
    DeviceCapability,
    GpuSplit,
    check_sm_split,
)
from gpu_backend.engine.scheduler import PHASES
from gpu_backend.errors import PartitionUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldPartition:
    phase: str
    num_sms: int
    handle: Any  # what the capability layer made (a torch GreenContext on a GPU)


class SmPartitions:
    def __init__(self, capability: DeviceCapability, split: GpuSplit) -> None:
        check_sm_split(split, capability)
        self.capability = capability
        self.split = split
        self.held: dict[str, HeldPartition] = {}
        self.failures: list[str] = []
        made = self._make(split, PHASES)
        if made is None:
            raise PartitionUnavailable(f"could not create green contexts for {split}: {self.failures[-1]}")
        self.held = made

    def move(self, split: GpuSplit) -> dict[str, HeldPartition] | None:
        """Build the partitions of `split` for the phases whose SMs change; the replaced
        ones (to `release` once their phase has switched), or None if the move failed."""
        check_sm_split(split, self.capability)
        changed = [phase for phase in PHASES if split.share(phase) != self.held[phase].num_sms]
        made = self._make(split, changed)
        if made is None:
            return None
        retired = {phase: self.held[phase] for phase in changed}
        self.held = {**self.held, **made}
        self.split = split
        return retired

    def release(self, partition: HeldPartition) -> None:
        self.capability.destroy_partition(partition.handle)

    def close(self) -> None:
        for partition in self.held.values():
            self.release(partition)
        self.held = {}

    def stats(self) -> dict:
        return {phase: held.num_sms for phase, held in self.held.items()} | {"failures": list(self.failures)}

    def _make(self, split: GpuSplit, phases: list[str] | tuple[str, ...]) -> dict[str, HeldPartition] | None:
        made: dict[str, HeldPartition] = {}
        for phase in phases:
            try:
                made[phase] = HeldPartition(
                    phase, split.share(phase), self.capability.create_partition(split.share(phase))
                )
            except Exception as error:  # noqa: BLE001 - the driver's errors are not one type; keep serving
                for partition in made.values():
                    self.release(partition)
                reason = f"{split}: the {phase} partition failed ({type(error).__name__}: {error})"
                self.failures.append(reason)
                log.warning("phase split: green contexts kept at %s; %s", self.split, reason)
                return None
        return made
