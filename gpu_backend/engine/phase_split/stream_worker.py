"""A phase worker on a GPU partition: a thread of the engine process that runs each step on
the stream of its phase's green context (never run: no GPU yet).

Green contexts partition the SMs of one process's device, so unlike the CPU workers this
one shares the engine's memory outright: the weights and the KV pool are the engine's own
tensors, nothing is mapped or copied. Results come back over a Pipe, so the engine waits
on both phases with the same `wait_any` as for worker processes. A new partition (a move
of the split) applies from the worker's next step; the replaced one is released then,
after the stream it ran on has finished.
"""

import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import torch

from gpu_backend.batch import StepBatch
from gpu_backend.engine.phase_split.process import StepResult
from gpu_backend.engine.phase_split.sm_partitions import HeldPartition, SmPartitions
from gpu_backend.errors import WorkerFailed
from gpu_backend.model.llama import LlamaModel


class StreamWorker:
    def __init__(
        self,
        phase: str,
        model: LlamaModel,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
        max_rows: int,
        partitions: SmPartitions,
    ) -> None:
        self.phase = phase
        self.model, self.k_cache, self.v_cache = model, k_cache, v_cache
        self.logits = torch.zeros(
            max_rows, model.config.vocab_size, dtype=torch.float32, device=model.embed_tokens.device
        )
        self.partition = partitions.held[phase]
        self.release: Callable[[HeldPartition], None] = partitions.release
        self.run_on = partitions.capability.run_on
        self._pending: HeldPartition | None = None
        self._lock = threading.Lock()
        self.conn, self._reply = multiprocessing.Pipe(duplex=False)
        self._steps: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self.busy = False
        self._thread = threading.Thread(target=self._run, name=f"semgate-{phase}", daemon=True)
        self._thread.start()

    @property
    def threads(self) -> int:
        return self.partition.num_sms

    @property
    def pid(self) -> int:
        return os.getpid()  # a thread of the engine's process

    def wait_ready(self) -> int:
        return self.pid

    @property
    def next_partition(self) -> HeldPartition:
        """The partition its next step runs on."""
        with self._lock:
            return self._pending or self.partition

    def set_partition(self, partition: HeldPartition) -> None:
        """Run on `partition` from the next step (the current one is released then)."""
        with self._lock:
            if self._pending is not None:
                self.release(self._pending)  # superseded before any step ran on it
            self._pending = partition

    def submit(self, input_ids: torch.Tensor, positions: torch.Tensor, batch: StepBatch) -> None:
        if not self._thread.is_alive():
            raise WorkerFailed(f"the {self.phase} stream worker has stopped")
        self.busy = True
        self._steps.put((input_ids, positions, batch))

    def receive(self) -> StepResult:
        try:
            message = self.conn.recv()
        finally:
            self.busy = False
        if message[0] == "error":
            raise WorkerFailed(f"the {self.phase} worker failed a step: {message[1]}")
        _, rows, seconds, sms = message
        return StepResult(rows, seconds, sms)

    def stop(self) -> None:
        self._steps.put(None)
        self._thread.join(timeout=10)
        with self._lock:
            if self._pending is not None:  # the partition it ran on was retired; the pending one is held
                self.release(self.partition)
                self.partition, self._pending = self._pending, None

    def _switch(self) -> None:
        with self._lock:
            if self._pending is None:
                return
            old, self.partition, self._pending = self.partition, self._pending, None
        self.release(old)

    def _run(self) -> None:
        with torch.inference_mode():
            while (step := self._steps.get()) is not None:
                self._switch()
                started = time.perf_counter()
                try:
                    with self.run_on(self.partition.handle):
                        logits = self.model(*step[:2], step[2], self.k_cache, self.v_cache)
                        self.logits[: logits.shape[0]].copy_(logits)
                except Exception as error:  # noqa: BLE001 - report it to the engine, keep serving
                    self._reply.send(("error", f"{type(error).__name__}: {error}"))
                    continue
                self._reply.send(("done", logits.shape[0], time.perf_counter() - started, self.partition.num_sms))
