"""A phase split: how much of the compute the prefill worker and the decode worker each get.

On a CPU a share is a number of torch threads per worker process; the OS time-shares the
cores when the two together ask for more threads than there are cores (e.g. 2+1 on two
cores gives the 2-thread worker about 4/3 of a core while both are busy). On a GPU the split is an
SM partition instead (partition.py: GpuSplit, in SMs or MPS percent), whose shares do not
time-share: `phase_compute` maps either kind of share to the compute a phase gets.
"""

from dataclasses import dataclass

from gpu_backend.errors import InvalidConfig


@dataclass(frozen=True, order=True)
class PhaseSplit:
    prefill_threads: int
    decode_threads: int

    def __post_init__(self) -> None:
        if self.prefill_threads < 1 or self.decode_threads < 1:
            raise InvalidConfig(f"each phase needs at least one thread, got {self}")

    def threads(self, phase: str) -> int:
        return self.prefill_threads if phase == "prefill" else self.decode_threads

    def share(self, phase: str) -> int:
        """The phase's part of the compute, as GpuSplit.share (threads here)."""
        return self.threads(phase)

    def other(self, phase: str) -> int:
        return self.decode_threads if phase == "prefill" else self.prefill_threads

    def __str__(self) -> str:
        return f"prefill {self.prefill_threads} / decode {self.decode_threads} threads"


def default_split(cores: int) -> PhaseSplit:
    """Half the cores each, at least one thread per phase."""
    prefill = max(1, cores // 2)
    return PhaseSplit(prefill, max(1, cores - prefill))


def candidate_splits(cores: int) -> list[PhaseSplit]:
    """The splits a controller chooses among: every way to give the two phases `cores`
    threads, plus one oversubscribed thread (a time-share), so that even two cores have
    three splits (1+1, 2+1, 1+2)."""
    cores = max(1, cores)
    found = {PhaseSplit(p, total - p) for total in (cores, cores + 1) for p in range(1, total) if total - p >= 1}
    return sorted(found or {PhaseSplit(1, 1)})


def phase_compute(share: int, other_share: int, total: int, other_busy: bool, disjoint: bool) -> float:
    """The compute a phase gets from its share: all of it on disjoint SM partitions, else
    (CPU threads) what the OS time-share leaves it (`effective_cores`)."""
    return float(share) if disjoint else effective_cores(share, other_share, total, other_busy)


def effective_cores(threads: int, other_threads: int, cores: int, other_busy: bool) -> float:
    """Cores a worker with `threads` gets: all it asks for (up to `cores`) while the other
    worker idles, else its fair part of the cores when the two oversubscribe them."""
    if not other_busy:
        return float(min(threads, cores))
    return float(min(threads, cores * threads / (threads + other_threads)))
