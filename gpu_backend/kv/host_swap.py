"""A host-memory KV pool that device blocks are swapped out to and back in from.

FastSwitch-style: a swapped sequence gets ONE contiguous range of host blocks, and its
device blocks are copied in as few large copies as possible (each run of consecutive
device block ids is one copy of all layers at once), not block by block. Copies run on
a worker thread (on a GPU, on their own CUDA stream from pinned memory), so a swap
overlaps the model's next step; callers wait on the returned future only when they
need the data (before freeing the source blocks, or before running the sequence).
"""

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import torch

from gpu_backend.errors import InvalidConfig, KVStateError
from gpu_backend.kv.kv_pool import KVPool


def contiguous_runs(blocks: list[int]) -> list[tuple[int, int, int]]:
    """(index in `blocks`, first block id, length) of each run of consecutive block ids."""
    runs: list[tuple[int, int, int]] = []
    for index, block in enumerate(blocks):
        if runs and runs[-1][1] + runs[-1][2] == block:
            start_index, first, length = runs[-1]
            runs[-1] = (start_index, first, length + 1)
        else:
            runs.append((index, block, 1))
    return runs


@dataclass
class SwapStats:
    swaps_out: int = 0
    swaps_in: int = 0
    bytes_out: int = 0
    bytes_in: int = 0
    seconds_out: float = 0.0
    seconds_in: float = 0.0
    copies: int = 0  # tensor copies issued (fewer than blocks when runs are long)

    def per_switch(self) -> dict:
        switches = self.swaps_out + self.swaps_in
        return {
            "switches": switches,
            "bytes_per_switch": (self.bytes_out + self.bytes_in) / switches if switches else 0.0,
            "seconds_per_switch": (self.seconds_out + self.seconds_in) / switches if switches else 0.0,
            "copies_per_switch": self.copies / switches if switches else 0.0,
        }


@dataclass
class HostRange:
    """A contiguous range of host blocks holding one swapped sequence's KV."""

    start: int
    length: int


@dataclass
class _FreeRanges:
    """First-fit allocator of contiguous host block ranges."""

    num_blocks: int
    free: list[tuple[int, int]] = field(default_factory=list)  # (start, length), sorted by start

    def __post_init__(self) -> None:
        self.free = [(0, self.num_blocks)]

    @property
    def num_free(self) -> int:
        return sum(length for _, length in self.free)

    def take(self, length: int) -> HostRange | None:
        for index, (start, size) in enumerate(self.free):
            if size >= length:
                if size == length:
                    del self.free[index]
                else:
                    self.free[index] = (start + length, size - length)
                return HostRange(start, length)
        return None

    def give_back(self, taken: HostRange) -> None:
        self.free.append((taken.start, taken.length))
        self.free.sort()
        merged: list[tuple[int, int]] = []
        for start, size in self.free:
            if merged and merged[-1][0] + merged[-1][1] == start:
                merged[-1] = (merged[-1][0], merged[-1][1] + size)
            else:
                merged.append((start, size))
        self.free = merged


class FreeAfterCopy:
    """Device blocks still read by copies to the host: each copy's `free` runs once it is done
    (`poll`, every step; `settle` waits for all), so no block is reused while being read."""

    def __init__(self) -> None:
        self._pending: list[tuple[Future, int, Callable[[], object]]] = []

    def add(self, copy: Future, num_blocks: int, free: Callable[[], object]) -> None:
        self._pending.append((copy, num_blocks, free))

    @property
    def num_blocks(self) -> int:
        return sum(num_blocks for _, num_blocks, _ in self._pending)

    def poll(self) -> None:
        still = []
        for copy, num_blocks, free in self._pending:
            if copy.done():
                copy.result()
                free()
            else:
                still.append((copy, num_blocks, free))
        self._pending = still

    def settle(self) -> None:
        for copy, _, _ in self._pending:
            copy.result()
        self.poll()


class HostKVPool:
    """`num_blocks` blocks of host memory shaped like `device_pool`'s blocks."""

    def __init__(self, device_pool: KVPool, num_blocks: int) -> None:
        if num_blocks < 1:
            raise InvalidConfig("the host KV pool needs at least one block")
        self.device_pool = device_pool
        shape = (device_pool.num_layers, num_blocks, *device_pool.k_cache.shape[2:])
        on_gpu = device_pool.k_cache.is_cuda
        dtype = device_pool.k_cache.dtype
        self.k_host = torch.zeros(shape, dtype=dtype, pin_memory=on_gpu)
        self.v_host = torch.zeros(shape, dtype=dtype, pin_memory=on_gpu)
        self.stream = torch.cuda.Stream(device_pool.k_cache.device) if on_gpu else None
        self.num_blocks = num_blocks
        self.stats = SwapStats()
        self._ranges = _FreeRanges(num_blocks)
        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kv-swap")

    @classmethod
    def from_budget(cls, device_pool: KVPool, budget_bytes: int) -> "HostKVPool":
        return cls(device_pool, max(1, budget_bytes // device_pool.bytes_per_block))

    @property
    def num_free_blocks(self) -> int:
        with self._lock:
            return self._ranges.num_free

    def reserve(self, num_blocks: int) -> HostRange | None:
        """A contiguous host range for `num_blocks` blocks, or None when none is free."""
        with self._lock:
            return self._ranges.take(num_blocks)

    def release(self, taken: HostRange) -> None:
        with self._lock:
            self._ranges.give_back(taken)

    def swap_out(self, device_blocks: list[int], taken: HostRange, stats: SwapStats | None = None) -> Future:
        """Copy `device_blocks` (in order) to `taken`; the future resolves once the copy is done
        and the device blocks may be reused. `stats`: where the copy is counted (default: `self.stats`)."""
        if len(device_blocks) != taken.length:
            raise KVStateError("the host range must hold exactly the swapped blocks")
        return self._worker.submit(self._copy, device_blocks, taken, True, self.stats if stats is None else stats)

    def swap_in(self, taken: HostRange, device_blocks: list[int], stats: SwapStats | None = None) -> Future:
        """Copy `taken` back to `device_blocks` (in order); the future resolves once they hold the KV.

        Copies run one after another in the order they were asked for, so a range released
        and handed out again is only overwritten after every copy already queued from it."""
        if len(device_blocks) != taken.length:
            raise KVStateError("the host range must hold exactly the swapped blocks")
        return self._worker.submit(self._copy, device_blocks, taken, False, self.stats if stats is None else stats)

    def _copy(self, device_blocks: list[int], taken: HostRange, to_host: bool, stats: SwapStats) -> None:
        started = time.perf_counter()
        device_k, device_v = self.device_pool.k_cache, self.device_pool.v_cache
        runs = contiguous_runs(device_blocks)
        on_stream = torch.cuda.stream(self.stream) if self.stream is not None else contextlib.nullcontext()
        with torch.inference_mode(), on_stream:
            for index, first, length in runs:
                host = slice(taken.start + index, taken.start + index + length)
                device = slice(first, first + length)
                for host_cache, device_cache in ((self.k_host, device_k), (self.v_host, device_v)):
                    if to_host:
                        host_cache[:, host].copy_(device_cache[:, device], non_blocking=self.stream is not None)
                    else:
                        device_cache[:, device].copy_(host_cache[:, host], non_blocking=self.stream is not None)
            if self.stream is not None:
                self.stream.synchronize()
        elapsed = time.perf_counter() - started
        moved = taken.length * self.device_pool.bytes_per_block
        with self._lock:
            stats.copies += 2 * len(runs)
            if to_host:
                stats.swaps_out += 1
                stats.bytes_out += moved
                stats.seconds_out += elapsed
            else:
                stats.swaps_in += 1
                stats.bytes_in += moved
                stats.seconds_in += elapsed

    def close(self) -> None:
        self._worker.shutdown(wait=True)
