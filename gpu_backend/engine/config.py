"""Engine knobs: KV pool size, batching limits, prefix cache, scheduling and preemption."""

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    kv_budget_bytes: int = 1 << 30
    block_size: int = 16
    # Admission limit: sequences holding KV and decoding together.
    max_running: int = 64
    # Prompt tokens computed in one prefill step; longer prompts are chunked.
    max_prefill_tokens: int = 512
    enable_prefix_cache: bool = True
    # Torch intra-op threads; None: one per core this process may use.
    num_threads: int | None = None
    # "fcfs": arrival order, every running sequence every step. "goodput": SLO-aware
    # (engine/goodput_scheduler.py): most urgent first, each request just enough service.
    scheduler: str = "fcfs"
    # "recompute": a preempted sequence gives its KV up; "swap": its KV waits in a host pool
    # of host_kv_budget_bytes (kv/host_swap.py) and comes back instead of being recomputed.
    preemption: str = "recompute"
    host_kv_budget_bytes: int = 1 << 30
    # Per-tenant fair share (engine/fairness.py): admission by least weighted service, and
    # a tenant far over its share is preempted (swapped) for one waiting under it.
    fair_share: bool = False
    # KVShare (gpu_backend/kvshare): None: off. Otherwise marked chunks are stored and reused
    # anywhere in later prompts, recomputing this fraction of their most deviating tokens.
    kvshare_recompute_ratio: float | None = None

    def __post_init__(self) -> None:
        if self.scheduler not in ("fcfs", "goodput"):
            raise ValueError(f"scheduler must be 'fcfs' or 'goodput', got {self.scheduler!r}")
        if self.kvshare_recompute_ratio is not None and not 0.0 <= self.kvshare_recompute_ratio <= 1.0:
            raise ValueError(f"kvshare_recompute_ratio must lie in [0, 1], got {self.kvshare_recompute_ratio}")
        if self.preemption not in ("recompute", "swap"):
            raise ValueError(f"preemption must be 'recompute' or 'swap', got {self.preemption!r}")
