"""Prometheus metrics of the backend, read from the engine at scrape time.

The engine reports its figures and its parts' (`metrics()`: scheduler and policies, block
manager, runner, phase split); this module only names and documents them. A figure of a part
that is off is not reported, so its metric is absent rather than zero.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gpu_backend.engine import AsyncEngine

PREFIX = "semgate_backend"

GAUGES = {
    "queue_depth": "Requests waiting to be admitted",
    "running_sequences": "Sequences in the running batch",
    "kv_usage_ratio": "Fraction of KV pool blocks in use (cached prefixes included)",
    "kv_blocks_total": "KV pool blocks",
    "kv_cached_blocks": "KV blocks held by the prefix cache",
    "prefix_cache_hit_rate": "Fraction of looked-up prompt tokens found in the prefix cache",
    "generation_tokens_per_second": "Output tokens per second over the last 10 s",
    "phase_split_prefill_threads": "Prefill worker's share (phase split): threads, SMs or MPS percent",
    "phase_split_decode_threads": "Decode worker's share (phase split): threads, SMs or MPS percent",
    "host_tier_blocks": "Host KV blocks holding prefixes evicted from the device",
    "kvshare_recompute_ratio": "KVShare: fraction of reused chunk tokens recomputed (configured)",
    "kvshare_chunk_blocks": "KVShare: KV blocks held by the chunk store",
}
COUNTERS = {
    "prompt_tokens": "Prompt tokens of accepted requests",
    "prefill_tokens": "Tokens computed other than decodes (prompts past their cached prefix, recomputed history)",
    "generation_tokens": "Output tokens generated",
    "requests_finished": "Requests finished (stop or length)",
    "requests_aborted": "Requests cancelled before they finished",
    "requests_cut_at_default_bound": "Requests without max_tokens cut at the default bound "
    "(--default-max-tokens) or the context's end",
    "requests_cut_looping": "Requests cut at their token bound while repeating a loop",
    "preemptions": "Sequences preempted for lack of KV blocks",
    "steps": "Engine steps run",
    "phase_split_changes": "Changes of the prefill/decode split",
    "goodput_skipped_decodes": "Goodput scheduler: decodes not stepped because their next token was not due",
    "goodput_yielded_slots": "Goodput scheduler: running requests preempted for ones that could not wait",
    "fair_share_preemptions": "Fair share: requests of a tenant over its share swapped out for another's",
    "host_tier_hits": "Prompts whose cached prefix was fetched back from the host tier",
    "host_tier_tokens_reused": "Prompt tokens whose KV came back from the host tier",
    "host_tier_blocks_saved": "KV blocks copied to the host tier on eviction",
    "host_tier_blocks_dropped": "Host tier blocks given up for room",
    "host_tier_bytes_out": "Bytes copied from the device to the host tier",
    "host_tier_bytes_in": "Bytes copied from the host tier back to the device",
    "host_tier_copy_seconds_out": "Seconds spent copying to the host tier",
    "host_tier_copy_seconds_in": "Seconds spent copying back from the host tier",
    "kvshare_prompts_blended": "KVShare: prompts prefilled with reused chunks",
    "kvshare_tokens_reused": "KVShare: prompt tokens whose KV came from the chunk store",
    "kvshare_tokens_recomputed": "KVShare: reused tokens recomputed (high deviation)",
    "kvshare_chunks_saved": "KVShare: chunks stored",
    "kvshare_prefill_tokens_saved": "KVShare: prompt tokens' worth of prefill compute the blends skipped",
}


class EngineCollector(Collector):
    def __init__(self, engine: AsyncEngine, model: str) -> None:
        self._engine = engine
        self._model = model

    def collect(self) -> Iterator[Metric]:
        figures = {"queue_depth": self._engine.num_queued, **self._engine.engine.metrics()}
        for name, value in figures.items():
            kind = GaugeMetricFamily if name in GAUGES else CounterMetricFamily
            family = kind(f"{PREFIX}_{name}", GAUGES.get(name) or COUNTERS[name], labels=["model"])
            family.add_metric([self._model], float(value))
            yield family


def metrics_registry(engine: AsyncEngine, model: str) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(EngineCollector(engine, model))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
