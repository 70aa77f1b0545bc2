"""Engine knobs: KV pool size, batching limits, prefix cache, scheduling and preemption."""

from dataclasses import dataclass

from gpu_backend.errors import InvalidConfig


@dataclass(frozen=True)
class EngineConfig:
    kv_budget_bytes: int = 1 << 30
    block_size: int = 16
    # Admission limit: sequences holding KV and decoding together.
    max_running: int = 64
    # Prompt tokens computed in one prefill step; longer prompts are chunked.
    max_prefill_tokens: int = 512
    # Output tokens of a request that sets no max_tokens (fewer if the context fills first);
    # None: until the context is full. Without a bound a greedy small model that falls into a
    # loop generates for minutes (thousands of tokens) before anyone sees an answer.
    default_max_tokens: int | None = 512
    enable_prefix_cache: bool = True
    # Torch intra-op threads; None: one per core this process may use.
    num_threads: int | None = None
    # "fcfs": arrival order, every running sequence every step. "goodput": SLO-aware
    # (engine/goodput_scheduler.py): most urgent first, each request just enough service,
    # running requests with slack give their slots to ones that cannot wait.
    scheduler: str = "fcfs"
    # "recompute": a preempted sequence gives its KV up; "swap": its KV waits in a host pool
    # of host_kv_budget_bytes (kv/host_swap.py) and comes back instead of being recomputed.
    preemption: str = "recompute"
    host_kv_budget_bytes: int = 1 << 30
    # Host tier of the prefix cache (kv/host_prefix.py): prefixes evicted from the device wait
    # in the host pool and come back for the next turn of a conversation instead of being
    # recomputed. None: on whenever there is a host pool (preemption="swap"); True also
    # makes the host pool (host_kv_budget_bytes) with recompute preemption.
    host_prefix_cache: bool | None = None
    # Per-tenant fair share (engine/fairness.py): admission by least weighted service, and
    # a tenant far over its share is preempted (swapped) for one waiting under it.
    fair_share: bool = False
    # Semi-PD phase split (engine/phase_split/): a prefill worker and a decode worker (processes)
    # compute concurrently over one shared copy of the weights and of the KV pool. The threads
    # of each: phase_split_threads (prefill, decode), None: half the cores each (at least 1).
    # phase_split_controller: an SLO-aware controller moves the split at run time.
    # phase_split_partition: "auto" (threads on a CPU; on a GPU green contexts, else MPS if its
    # daemon runs), or one of "threads", "green_context", "mps" (an error where unavailable).
    phase_split: bool = False
    phase_split_threads: tuple[int, int] | None = None
    phase_split_controller: bool = True
    phase_split_partition: str = "auto"
    # KVShare (gpu_backend/kvshare): None: off. Otherwise marked chunks are stored and reused
    # anywhere in later prompts, recomputing this fraction of their most deviating tokens.
    kvshare_recompute_ratio: float | None = None
    # The layer at which reused tokens' KV deviation picks those recomputed (kvshare/blend.py).
    kvshare_check_layer: int = 1

    def __post_init__(self) -> None:
        if self.default_max_tokens is not None and self.default_max_tokens < 1:
            raise InvalidConfig(
                f"default_max_tokens must be at least 1 (None: no bound), got {self.default_max_tokens}"
            )
        if self.scheduler not in ("fcfs", "goodput"):
            raise InvalidConfig(f"scheduler must be 'fcfs' or 'goodput', got {self.scheduler!r}")
        if self.kvshare_recompute_ratio is not None and not 0.0 <= self.kvshare_recompute_ratio <= 1.0:
            raise InvalidConfig(f"kvshare_recompute_ratio must lie in [0, 1], got {self.kvshare_recompute_ratio}")
        if self.preemption not in ("recompute", "swap"):
            raise InvalidConfig(f"preemption must be 'recompute' or 'swap', got {self.preemption!r}")
        if self.phase_split and (self.scheduler != "fcfs" or self.preemption != "recompute" or self.fair_share):
            raise InvalidConfig("phase_split runs with the fcfs scheduler and recompute preemption, without fair_share")
        if self.host_prefix_cache and (self.phase_split or not self.enable_prefix_cache):
            raise InvalidConfig("host_prefix_cache needs enable_prefix_cache and does not run with phase_split")
        if self.phase_split and self.kvshare_recompute_ratio is not None:
            raise InvalidConfig("phase_split and kvshare_recompute_ratio do not combine yet: choose one")
        if self.phase_split_partition not in ("auto", "threads", "green_context", "mps"):
            raise InvalidConfig(
                f"phase_split_partition must be auto, threads, green_context or mps, got {self.phase_split_partition!r}"
            )
        if self.phase_split_threads is not None and min(self.phase_split_threads) < 1:
            raise InvalidConfig(f"phase_split_threads must be positive, got {self.phase_split_threads}")

    @property
    def uses_host_prefix_cache(self) -> bool:
        wanted = self.preemption == "swap" if self.host_prefix_cache is None else self.host_prefix_cache
        return wanted and self.enable_prefix_cache and not self.phase_split
