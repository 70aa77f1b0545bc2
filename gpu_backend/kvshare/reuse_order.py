"""Cache-aware admission: favour waiting requests whose KV is mostly reusable.

A request whose prompt is mostly in the prefix cache or the chunk store costs a fraction
of a full prefill, so admitting it first lowers the mean TTFT of the queue (shortest job
first, by compute). It must not break SLOs or starve anyone: requests that were preempted,
that have waited `max_wait_s`, or that have used half of their TTFT target keep their
order at the head of the queue; only the others are reordered. Among equal reuse, requests
that share a chunk are placed next to each other, so they are admitted in the same step
(one batch) and, once the first has stored the chunk, the later ones reuse it. A scheduling
policy (engine/scheduling_policy.py): the builder plugs it in when KVShare is on.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.scheduling_policy import SchedulingPolicy
from gpu_backend.engine.sequence import Sequence
from gpu_backend.kvshare.chunk_store import ChunkStore


class ReuseOrder(SchedulingPolicy):
    def __init__(self, block_manager: BlockManager, store: ChunkStore, max_wait_s: float = 2.0) -> None:
        self.block_manager = block_manager
        self.store = store
        self.max_wait_s = max_wait_s

    def reuse_fraction(self, seq: Sequence) -> float:
        """Prompt tokens found in the prefix cache or the chunk store, over prompt tokens (a probe:
        no statistics recorded)."""
        radix, salt = self.block_manager.radix, seq.params.cache_salt
        cached = radix.match_prefix(seq.token_ids[:-1], salt, record=False).num_tokens
        chunked = sum(
            e - s for s, e in seq.chunk_spans if s >= cached and self.store.contains(seq.token_ids[s:e], salt)
        )
        return (cached + chunked) / seq.num_prompt_tokens

    def is_urgent(self, seq: Sequence, now: float) -> bool:
        waited = now - seq.arrival_time
        ttft = seq.slo.ttft_s
        return (
            seq.num_preemptions > 0
            or seq.swapped is not None
            or waited >= self.max_wait_s
            or (ttft is not None and waited >= ttft / 2)
        )

    def order(self, waiting: Iterable[Sequence], now: float | None = None) -> deque[Sequence]:
        now = time.monotonic() if now is None else now
        queue = list(waiting)
        urgent = [s for s in queue if self.is_urgent(s, now)]
        rest = [s for s in queue if not self.is_urgent(s, now)]
        group: dict[tuple, int] = {}  # chunk content -> the first waiting request that has it
        for index, seq in enumerate(rest):
            for s, e in seq.chunk_spans:
                group.setdefault((seq.params.cache_salt, tuple(seq.token_ids[s:e])), index)

        def first_shared(index_seq: tuple[int, Sequence]) -> int:
            index, seq = index_seq
            keys = [(seq.params.cache_salt, tuple(seq.token_ids[s:e])) for s, e in seq.chunk_spans]
            return min([group[k] for k in keys], default=index)

        ranked = sorted(enumerate(rest), key=lambda item: (-round(self.reuse_fraction(item[1]), 1), first_shared(item)))
        return deque([*urgent, *(seq for _, seq in ranked)])
