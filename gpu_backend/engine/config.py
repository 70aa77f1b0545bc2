"""Engine knobs: KV pool size, batching limits, prefix cache."""

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
