"""Where the two phase workers compute, per partition kind (partition.py): starting them on
their shares and moving the shares at run time. The engine only ever calls these.

- ThreadPlacement (CPU, today's split): worker processes; a move sends new thread counts.
- GreenContextPlacement: stream workers (threads of the engine) on green contexts; a move
  builds the new partitions first (sm_partitions.py) and keeps the split if that fails.
- MpsPlacement: worker processes at an MPS percentage; a move restarts a worker at its next step.

None of them touches the KV pool on a move: only where each phase's kernels run changes.
"""

import logging
from typing import Protocol

import torch

from gpu_backend.engine.phase_split.mps_worker import MpsWorkerProcess
from gpu_backend.engine.phase_split.partition import (
    DeviceCapability,
    GpuSplit,
    PartitionChoice,
)
from gpu_backend.engine.phase_split.process import (
    PhaseWorkerProcess,
    share_model_and_pool,
)
from gpu_backend.engine.phase_split.sm_partitions import SmPartitions
from gpu_backend.engine.phase_split.split import PhaseSplit
from gpu_backend.engine.phase_split.stream_worker import StreamWorker
from gpu_backend.engine.scheduler import PHASES
from gpu_backend.errors import InvalidConfig
from gpu_backend.model.llama import LlamaModel

log = logging.getLogger(__name__)

Worker = PhaseWorkerProcess | StreamWorker


class Placement(Protocol):
    choice: PartitionChoice

    def start(
        self, model: LlamaModel, k_cache: torch.Tensor, v_cache: torch.Tensor, max_rows: int
    ) -> dict[str, Worker]: ...

    def move(self, workers: dict[str, Worker], split: PhaseSplit | GpuSplit) -> bool: ...

    def stats(self) -> dict: ...

    def close(self) -> None: ...


class ThreadPlacement:
    def __init__(self, choice: PartitionChoice, split: PhaseSplit) -> None:
        self.choice, self.split = choice, split

    def start(
        self, model: LlamaModel, k_cache: torch.Tensor, v_cache: torch.Tensor, max_rows: int
    ) -> dict[str, Worker]:
        torch.set_num_threads(1)  # this process only schedules and samples; the workers compute
        share_model_and_pool(model, k_cache, v_cache)
        return {
            phase: PhaseWorkerProcess(phase, model, k_cache, v_cache, max_rows, self.split.threads(phase))
            for phase in PHASES
        }

    def move(self, workers: dict[str, Worker], split: PhaseSplit | GpuSplit) -> bool:
        if not isinstance(split, PhaseSplit):
            raise InvalidConfig(f"a CPU split is in threads per worker, got {split}")
        for phase, worker in workers.items():
            if isinstance(worker, PhaseWorkerProcess) and worker.threads != split.share(phase):
                worker.set_threads(split.share(phase))
        return True

    def stats(self) -> dict:
        return {}

    def close(self) -> None:
        pass


class GreenContextPlacement:
    def __init__(self, choice: PartitionChoice, capability: DeviceCapability, split: GpuSplit) -> None:
        self.choice = choice
        self.partitions = SmPartitions(capability, split)  # raises PartitionUnavailable if the device refuses

    def start(
        self, model: LlamaModel, k_cache: torch.Tensor, v_cache: torch.Tensor, max_rows: int
    ) -> dict[str, Worker]:
        return {phase: StreamWorker(phase, model, k_cache, v_cache, max_rows, self.partitions) for phase in PHASES}

    def move(self, workers: dict[str, Worker], split: PhaseSplit | GpuSplit) -> bool:
        if not isinstance(split, GpuSplit):
            raise InvalidConfig(f"a green-context split is in SMs per phase, got {split}")
        if self.partitions.move(split) is None:
            return False
        for phase, worker in workers.items():
            held = self.partitions.held[phase]
            if isinstance(worker, StreamWorker) and worker.next_partition is not held:
                worker.set_partition(held)
        return True

    def stats(self) -> dict:
        return {"sms": self.partitions.stats(), "device_sms": self.partitions.capability.sm_count}

    def close(self) -> None:
        self.partitions.close()


class MpsPlacement:
    def __init__(self, choice: PartitionChoice, split: GpuSplit) -> None:
        self.choice, self.split = choice, split

    def start(
        self, model: LlamaModel, k_cache: torch.Tensor, v_cache: torch.Tensor, max_rows: int
    ) -> dict[str, Worker]:
        return {
            phase: MpsWorkerProcess(phase, model, k_cache, v_cache, max_rows, self.split.share(phase))
            for phase in PHASES
        }

    def move(self, workers: dict[str, Worker], split: PhaseSplit | GpuSplit) -> bool:
        if not isinstance(split, GpuSplit) or split.unit != "%" or max(split.prefill, split.decode) > 100:
            raise InvalidConfig(f"an MPS split is a percentage (1 to 100) per phase, got {split}")
        for phase, worker in workers.items():
            if isinstance(worker, MpsWorkerProcess):
                worker.set_percent(split.share(phase))
        self.split = split
        return True

    def stats(self) -> dict:
        return {}

    def close(self) -> None:
        pass
