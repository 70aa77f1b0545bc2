"""A phase worker process under MPS: its share of the GPU is the active-thread percentage it
was started with (never run: no GPU yet).

MPS reads CUDA_MPS_ACTIVE_THREAD_PERCENTAGE once, when the process's CUDA context is made,
so moving the split restarts the worker with the new percentage, between two of its steps.
Only the worker's compute goes: the weights and the KV pool are the engine's device memory,
which the new worker maps again by CUDA IPC, so no KV moves.
"""

from dataclasses import replace

import torch

from gpu_backend.batch import StepBatch
from gpu_backend.engine.phase_split.process import PhaseWorkerProcess, StepResult
from gpu_backend.model.llama import LlamaModel

MPS_PERCENT_VARIABLE = "CUDA_MPS_ACTIVE_THREAD_PERCENTAGE"


def mps_env(percent: int) -> dict[str, str]:
    return {MPS_PERCENT_VARIABLE: str(percent)}


class MpsWorkerProcess(PhaseWorkerProcess):
    def __init__(
        self, phase: str, model: LlamaModel, k_cache: torch.Tensor, v_cache: torch.Tensor, max_rows: int, percent: int
    ) -> None:
        # one CPU thread: the worker only launches kernels
        super().__init__(phase, model, k_cache, v_cache, max_rows, 1, env=mps_env(percent))
        self.percent = percent
        self._pending_percent: int | None = None
        self.restarts = 0

    def set_percent(self, percent: int) -> None:
        """Run at `percent` from the next step (the worker restarts before it)."""
        self._pending_percent = None if percent == self.percent else percent

    def submit(self, input_ids: torch.Tensor, positions: torch.Tensor, batch: StepBatch) -> None:
        if self._pending_percent is not None and not self.busy:
            self.stop()
            self.percent, self._pending_percent = self._pending_percent, None
            self._start(mps_env(self.percent))
            self.wait_ready()
            self.restarts += 1
        super().submit(input_ids, positions, batch)

    def receive(self) -> StepResult:
        """As the CPU worker's, its share in percent where the CPU's is in threads."""
        return replace(super().receive(), threads=self.percent)
