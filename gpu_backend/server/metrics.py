"""Prometheus metrics of the backend, read from the engine at scrape time."""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gpu_backend.engine import AsyncEngine

PREFIX = "semgate_backend"


class EngineCollector(Collector):
    def __init__(self, engine: AsyncEngine, model: str) -> None:
        self._engine = engine
        self._model = model

    def collect(self) -> Iterator[Metric]:
        engine = self._engine.engine
        stats = engine.stats
        radix = engine.block_manager.radix
        hit_rate = radix.stats.token_hit_rate if radix is not None else 0.0
        cached_blocks = radix.cached_blocks if radix is not None else 0
        gauges = [
            ("queue_depth", "Requests waiting to be admitted", self._engine.num_queued),
            ("running_sequences", "Sequences in the running batch", len(engine.scheduler.running)),
            ("kv_usage_ratio", "Fraction of KV pool blocks in use (cached prefixes included)", engine.pool.usage),
            ("kv_blocks_total", "KV pool blocks", engine.pool.num_blocks),
            ("kv_cached_blocks", "KV blocks held by the prefix cache", cached_blocks),
            ("prefix_cache_hit_rate", "Fraction of looked-up prompt tokens found in the prefix cache", hit_rate),
            ("generation_tokens_per_second", "Output tokens per second over the last 10 s",
             stats.tokens_per_second()),
        ]
        split = engine.phase_split_stats() if hasattr(engine, "phase_split_stats") else None
        if split is not None:
            gauges += [("phase_split_prefill_threads", "Threads of the prefill worker (phase split)",
                        split["prefill_threads"]),
                       ("phase_split_decode_threads", "Threads of the decode worker (phase split)",
                        split["decode_threads"])]
        for name, documentation, value in gauges:
            family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=["model"])
            family.add_metric([self._model], float(value))
            yield family
        counters = [
            ("prompt_tokens", "Prompt tokens of accepted requests", stats.prompt_tokens),
            ("prefill_tokens", "Tokens computed other than decodes (prompts past their cached prefix, "
             "recomputed history)", stats.prefill_tokens),
            ("generation_tokens", "Output tokens generated", stats.generated_tokens),
            ("requests_finished", "Requests finished (stop or length)", stats.finished_requests),
            ("requests_aborted", "Requests cancelled before they finished", stats.aborted_requests),
            ("requests_cut_at_default_bound", "Requests without max_tokens cut at the default bound "
             "(--default-max-tokens) or the context's end", stats.default_bound_cuts),
            ("requests_cut_looping", "Requests cut at their token bound while repeating a loop", stats.looping_cuts),
            ("preemptions", "Sequences preempted for lack of KV blocks", engine.scheduler.num_preemptions),
            ("steps", "Engine steps run", stats.steps),
        ]
        if split is not None:
            counters.append(("phase_split_changes", "Changes of the prefill/decode split", len(split["changes"])))
        tier = getattr(engine, "host_tier", None)
        if tier is not None:
            host = tier.host_stats
            family = GaugeMetricFamily(f"{PREFIX}_host_tier_blocks",
                                       "Host KV blocks holding prefixes evicted from the device", labels=["model"])
            family.add_metric([self._model], float(tier.host_blocks))
            yield family
            counters += [
                ("host_tier_hits", "Prompts whose cached prefix was fetched back from the host tier", host.hits),
                ("host_tier_tokens_reused", "Prompt tokens whose KV came back from the host tier", host.tokens_reused),
                ("host_tier_blocks_saved", "KV blocks copied to the host tier on eviction", host.blocks_saved),
                ("host_tier_blocks_dropped", "Host tier blocks given up for room", host.blocks_dropped),
                ("host_tier_bytes_out", "Bytes copied from the device to the host tier", host.copies.bytes_out),
                ("host_tier_bytes_in", "Bytes copied from the host tier back to the device", host.copies.bytes_in),
                ("host_tier_copy_seconds_out", "Seconds spent copying to the host tier", host.copies.seconds_out),
                ("host_tier_copy_seconds_in", "Seconds spent copying back from the host tier", host.copies.seconds_in),
            ]
        kvshare = engine.kvshare
        if kvshare is not None:
            gauges_kv = [
                ("kvshare_recompute_ratio", "KVShare: fraction of reused chunk tokens recomputed (configured)",
                 kvshare.recompute_ratio),
                ("kvshare_chunk_blocks", "KVShare: KV blocks held by the chunk store", kvshare.store.stored_blocks),
            ]
            for name, documentation, value in gauges_kv:
                family = GaugeMetricFamily(f"{PREFIX}_{name}", documentation, labels=["model"])
                family.add_metric([self._model], float(value))
                yield family
            shared = kvshare.stats
            counters += [
                ("kvshare_prompts_blended", "KVShare: prompts prefilled with reused chunks", shared.prompts_blended),
                ("kvshare_tokens_reused", "KVShare: prompt tokens whose KV came from the chunk store",
                 shared.tokens_reused),
                ("kvshare_tokens_recomputed", "KVShare: reused tokens recomputed (high deviation)",
                 shared.tokens_recomputed),
                ("kvshare_chunks_saved", "KVShare: chunks stored", shared.chunks_saved),
            ]
        for name, documentation, value in counters:
            family = CounterMetricFamily(f"{PREFIX}_{name}", documentation, labels=["model"])
            family.add_metric([self._model], float(value))
            yield family


def metrics_registry(engine: AsyncEngine, model: str) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(EngineCollector(engine, model))
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
