"""The engine's handle on one phase worker process: start it, send it steps, collect results."""

import contextlib
import multiprocessing.connection
import os
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Protocol, TypeVar

import torch
import torch.multiprocessing as mp

from gpu_backend.batch import StepBatch
from gpu_backend.engine.phase_split.worker import pack_step, worker_main
from gpu_backend.errors import KVStateError, WorkerFailed
from gpu_backend.model.llama import LlamaModel

START_TIMEOUT_S = 300.0


@dataclass
class StepResult:
    rows: int
    seconds: float
    threads: int


class PhaseWorkerProcess:
    """One worker (`phase` is "prefill" or "decode") over the shared `model` and caches.

    `share_model_and_pool` must have moved them to shared memory first: the spawned process
    then maps the same pages (checked by `mapped_files`), nothing is copied.
    """

    def __init__(
        self,
        phase: str,
        model: LlamaModel,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
        max_rows: int,
        threads: int,
        env: dict[str, str] | None = None,
    ) -> None:
        """`env`: variables the worker starts with (MPS reads its SM share from one)."""
        self.phase = phase
        self.threads = threads
        # On a GPU (MPS workers) the buffer is device memory the spawned worker maps by CUDA IPC.
        self.logits = torch.zeros(
            max_rows, model.config.vocab_size, dtype=torch.float32, device=model.embed_tokens.device
        ).share_memory_()
        self._args = (model, k_cache, v_cache, self.logits)
        self.pid = 0  # known once the worker is ready
        self._start(env or {})

    def _start(self, env: dict[str, str]) -> None:
        context = mp.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=worker_main, args=(*self._args, child, self.threads), name=f"semgate-{self.phase}", daemon=True
        )
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)  # a spawned process takes its environment from this one's at start
        try:
            self.process.start()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        child.close()
        self.busy = False

    def wait_ready(self) -> int:
        """Block until the worker has started; its pid."""
        if not self.conn.poll(START_TIMEOUT_S):
            raise WorkerFailed(f"the {self.phase} worker did not start within {START_TIMEOUT_S:.0f} s")
        _, self.pid = self.conn.recv()
        return self.pid

    def submit(self, input_ids: torch.Tensor, positions: torch.Tensor, batch: StepBatch) -> None:
        if not self.process.is_alive():
            raise WorkerFailed(f"the {self.phase} worker exited (code {self.process.exitcode})")
        arrays, meta = pack_step(input_ids, positions, batch)
        self.conn.send(("step", arrays, meta))
        self.busy = True

    def receive(self) -> StepResult:
        """The result of the step in flight (blocks until it is there)."""
        try:
            message = self.conn.recv()
        except EOFError:
            raise WorkerFailed(f"the {self.phase} worker exited mid-step (code {self.process.exitcode})") from None
        finally:
            self.busy = False
        if message[0] == "error":
            raise WorkerFailed(f"the {self.phase} worker failed a step: {message[1]}")
        _, rows, seconds, threads = message
        return StepResult(rows, seconds, threads)

    def set_threads(self, threads: int) -> None:
        self.conn.send(("threads", threads))
        self.threads = threads

    def inspect(self, blocks: list[int]) -> tuple[int, list[float]]:
        """(pid, sum of the K cache over each block, as the worker reads it); only while idle."""
        self.conn.send(("inspect", list(blocks)))
        _, pid, sums = self.conn.recv()
        return pid, sums

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self.conn.send(("stop",))
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.conn.close()


class _Waitable(Protocol):
    busy: bool
    conn: Connection


W = TypeVar("W", bound=_Waitable)


def wait_any(workers: list[W]) -> list[W]:
    """The busy workers whose step result is ready (blocks until at least one is); any worker
    that answers over a Pipe (processes, and the GPU's stream workers)."""
    busy = [w for w in workers if w.busy]
    ready = multiprocessing.connection.wait([w.conn for w in busy])
    return [w for w in busy if w.conn in ready]


def share_model_and_pool(model: LlamaModel, k_cache: torch.Tensor, v_cache: torch.Tensor) -> None:
    """Move the weights and the KV pool into shared memory, in place (once, before spawning):
    from then on parent and workers map the same pages."""
    model.share_memory()
    model.cos_sin.share_memory_()  # plain tensor attributes, not registered buffers
    if model.lm_head_by_column is not None:
        model.lm_head_by_column.share_memory_()
    k_cache.share_memory_()
    v_cache.share_memory_()


def mapped_files(pid: int | str = "self") -> dict[int, str]:
    """inode -> path of the shared-memory files a process maps (/proc/PID/maps)."""
    found = {}
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and ("/dev/shm" in parts[5] or "torch_" in parts[5]):
                found[int(parts[4])] = parts[5].strip()
    return found


def mapping_inode(address: int, pid: int | str = "self") -> int:
    """The inode of the file mapped at `address` in process `pid` (0: anonymous memory)."""
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            parts = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in parts[0].split("-"))
            if start <= address < end:
                return int(parts[4])
    raise KVStateError(f"address {address:#x} is not mapped in process {pid}")


def memory_mb(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of a process split into shared and private pages (MiB), from
    /proc/PID/smaps_rollup: a worker that maps the shared weights and pool has them in
    `shared`, not `private`."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return {
        "rss": fields.get("Rss", 0.0),
        "pss": fields.get("Pss", 0.0),
        "shared": fields.get("Shared_Clean", 0.0) + fields.get("Shared_Dirty", 0.0),
        "private": fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0),
    }
