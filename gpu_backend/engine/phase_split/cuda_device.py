"""The partition layer's capability on a real CUDA GPU, through torch (never run: no GPU yet).

Green contexts come from `torch.cuda.green_contexts.GreenContext` (torch built with CUDA
12.8+ and a driver as new); each partition is one green context whose `Stream()` a phase
launches its kernels on. SM granules follow the CUDA driver's guideline per architecture
(the driver rounds a request up to them; asking on the granule keeps the bookkeeping exact).
MPS is detected by its control pipe, the daemon is never started here.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

# compute capability major -> (smallest partition, alignment), CUDA driver API "Green Contexts"
_SM_GRANULES = {6: (1, 1), 7: (2, 2), 8: (4, 2)}
_SM_GRANULE_HOPPER_ON = (8, 8)


def sm_granule(major: int) -> tuple[int, int]:
    return _SM_GRANULES.get(major, _SM_GRANULE_HOPPER_ON if major >= 9 else (1, 1))


def mps_pipe_directory() -> Path:
    return Path(os.environ.get("CUDA_MPS_PIPE_DIRECTORY", "/tmp/nvidia-mps"))


class CudaCapability:
    def __init__(self, device_index: int = 0) -> None:
        properties = torch.cuda.get_device_properties(device_index)
        self.device_index = device_index
        self.name = properties.name
        self.sm_count = properties.multi_processor_count
        self.min_sms, self.sm_alignment = sm_granule(properties.major)

    def green_contexts(self) -> tuple[bool, str]:
        module = getattr(torch.cuda, "green_contexts", None)
        if module is None:
            return False, f"torch {torch.__version__} has no torch.cuda.green_contexts"
        if not getattr(module, "SUPPORTED", False):
            return False, f"torch {torch.__version__} was built without green-context support (needs CUDA 12.8+)"
        return True, f"torch {torch.__version__} offers CUDA green contexts"

    def mps_daemon(self) -> tuple[bool, str]:
        control = mps_pipe_directory() / "control"
        if control.exists():
            return True, f"an MPS daemon is running (control pipe {control})"
        return False, f"no MPS daemon (no control pipe at {control}; start nvidia-cuda-mps-control -d to use MPS)"

    def create_partition(self, num_sms: int) -> Any:
        return torch.cuda.green_contexts.GreenContext.create(num_sms=num_sms, device_id=self.device_index)

    def destroy_partition(self, partition: Any) -> None:
        # torch destroys a green context when its last reference goes (the bookkeeping drops
        # it after this); no kernel of it may be running then.
        stream_of(partition).synchronize()

    @contextmanager
    def run_on(self, partition: Any) -> Iterator[None]:
        """Launch the kernels of the block on `partition`'s SMs and wait for them at its end
        (the engine reads the logits and reuses the blocks next)."""
        stream = stream_of(partition)
        stream.wait_stream(torch.cuda.default_stream(self.device_index))  # the step's inputs
        with torch.cuda.stream(stream):
            yield
        stream.synchronize()


def stream_of(partition: Any) -> torch.cuda.Stream:
    """The stream whose kernels run on `partition`'s SMs."""
    return partition.Stream()
