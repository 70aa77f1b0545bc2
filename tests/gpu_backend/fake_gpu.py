"""A fake GPU for the partition layer's tests: the capability interface of cuda_device.py
(SM count, granule, green contexts and MPS present or not, create/destroy partitions, run a
block on one) with every call recorded, and partitions that fail to create on request."""

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(eq=False)
class FakePartition:
    num_sms: int
    ident: int
    destroyed: bool = False


class FakeGpu:
    def __init__(self, sm_count: int = 132, min_sms: int = 8, sm_alignment: int = 8, green: bool = True,
                 mps: bool = False, fail_sms: tuple[int, ...] = ()) -> None:
        self.name = "Fake H100"
        self.sm_count, self.min_sms, self.sm_alignment = sm_count, min_sms, sm_alignment
        self.green, self.mps, self.fail_sms = green, mps, set(fail_sms)
        self.calls: list[tuple[str, int]] = []
        self.live: list[FakePartition] = []
        self.ran_on: list[FakePartition] = []
        self._ids = itertools.count()
        self._lock = threading.Lock()  # the stream workers are threads

    def green_contexts(self) -> tuple[bool, str]:
        return (True, "fake torch offers green contexts") if self.green else (False, "fake torch has none")

    def mps_daemon(self) -> tuple[bool, str]:
        return (True, "a fake MPS daemon runs") if self.mps else (False, "no fake MPS daemon")

    def create_partition(self, num_sms: int) -> FakePartition:
        with self._lock:
            self.calls.append(("create", num_sms))
            if num_sms in self.fail_sms:
                raise RuntimeError("CUDA driver error: invalid resource configuration (fake)")
            partition = FakePartition(num_sms, next(self._ids))
            self.live.append(partition)
            return partition

    def destroy_partition(self, partition: FakePartition) -> None:
        with self._lock:
            self.calls.append(("destroy", partition.num_sms))
            if partition.destroyed:
                raise AssertionError(f"partition {partition.ident} destroyed twice")
            partition.destroyed = True
            self.live.remove(partition)

    @contextmanager
    def run_on(self, partition: FakePartition) -> Iterator[None]:
        if partition.destroyed:
            raise AssertionError(f"a step ran on destroyed partition {partition.ident}")
        with self._lock:
            self.ran_on.append(partition)
        yield
