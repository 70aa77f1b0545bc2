"""The one place an engine is put together: the parts a configuration asks for, made and
passed in.

Each feature is a part or a policy, chosen here and nowhere else; a feature that is off is
a do-nothing part (NoSwap, FairShareOff, NoPrefixCache, NoChunkStore, FixedSplit, the plain
ModelRunner), so the
engine and the scheduler never ask whether it is on. For a given EngineConfig:

- pool: KVPool from kv_budget_bytes; host_pool: a HostKVPool when preemption="swap" or the
  prefix cache's host tier is on (shared by both);
- block_manager: radix prefix cache (enable_prefix_cache), its host tier, and KVShare's chunk
  store as another evictable holder of blocks;
- scheduler: one Scheduler with the policies in admission-order precedence: GoodputPolicy
  (scheduler="goodput"; FCFS is no policy at all), ReuseOrder (KVShare), FairSharePolicy
  (fair_share: least-served tenant first); swapper: Swapper (swap) or NoSwap (recompute);
- runner: ModelRunner, wrapped by KVShareRunner when kvshare_recompute_ratio is set;
- phase_split: a PhaseSplitEngine drives the same core engine through two phase workers on the
  partition the capability check chooses (phase_split_partition; engine/phase_split/setup.py):
  CPU threads starting at phase_split_threads (default: half the cores each), or on a GPU SM
  partitions (green contexts, MPS) starting at half each; moved by a SplitController
  (phase_split_controller) or kept (FixedSplit).
"""

import os

import torch

from gpu_backend.engine.block_manager import BlockManager, EvictableStore, NoChunkStore
from gpu_backend.engine.config import EngineConfig
from gpu_backend.engine.engine import EngineParts, LLMEngine
from gpu_backend.engine.fairness import FairShareOff, FairSharePolicy, TenantAccounting
from gpu_backend.engine.goodput_policy import GoodputPolicy
from gpu_backend.engine.model_runner import ModelRunner, StepRunner
from gpu_backend.engine.phase_split.cuda_device import CudaCapability
from gpu_backend.engine.phase_split.engine import PhaseSplitEngine
from gpu_backend.engine.phase_split.setup import phase_split_setup
from gpu_backend.engine.scheduler import Scheduler
from gpu_backend.engine.scheduling_policy import RunQueues, SchedulingPolicy
from gpu_backend.engine.swapper import NoSwap, Swapper
from gpu_backend.errors import InvalidConfig
from gpu_backend.kv import HostKVPool, KVPool
from gpu_backend.kvshare.chunk_store import ChunkStore
from gpu_backend.kvshare.reuse_order import ReuseOrder
from gpu_backend.kvshare.runner import KVShareRunner
from gpu_backend.model import LlamaModel, LoadedModel, Tokenizer


def build_engine(
    model: LlamaModel, tokenizer: Tokenizer, config: EngineConfig = EngineConfig()
) -> LLMEngine | PhaseSplitEngine:
    """The engine `config` asks for: the core engine, or the phase split driving one."""
    core = build_core_engine(model, tokenizer, config)
    if not config.phase_split:
        return core
    cores = config.num_threads or len(os.sched_getaffinity(0))
    device = model.embed_tokens.device
    try:
        capability = CudaCapability(device.index or 0) if device.type == "cuda" else None
        setup = phase_split_setup(
            config.phase_split_partition,
            device,
            cores,
            config.phase_split_threads,
            config.phase_split_controller,
            capability,
        )
        return PhaseSplitEngine(core, setup.split, setup.controller, setup.placement)
    except BaseException:
        core.close()
        raise


def build_from_loaded(loaded: LoadedModel, config: EngineConfig = EngineConfig()) -> LLMEngine | PhaseSplitEngine:
    return build_engine(loaded.model, loaded.tokenizer, config)


def build_core_engine(model: LlamaModel, tokenizer: Tokenizer, config: EngineConfig) -> LLMEngine:
    torch.set_num_threads(config.num_threads or len(os.sched_getaffinity(0)))
    weights = model.embed_tokens
    if weights.device.type == "cpu" and weights.dtype != torch.float32:
        # The CPU path computes in the weights' dtype; in bfloat16 SmolLM2's greedy answers
        # drift from float32 and HF (e.g. a wrong answer to "What is the capital of France?").
        raise InvalidConfig(
            f"the CPU engine runs in float32 only, got {weights.dtype}; "
            "load the model with dtype=torch.float32 (--dtype float32)"
        )
    shape = model.config
    pool = KVPool.from_budget(
        config.kv_budget_bytes,
        shape.num_layers,
        shape.num_kv_heads,
        shape.head_dim,
        config.block_size,
        weights.dtype,
        weights.device,
    )
    host_pool = (
        HostKVPool.from_budget(pool, config.host_kv_budget_bytes)
        if config.preemption == "swap" or config.uses_host_prefix_cache
        else None
    )
    store = ChunkStore(pool, "model") if config.kvshare_recompute_ratio is not None else None
    block_manager = _block_manager(config, pool, host_pool, store or NoChunkStore())
    queues = RunQueues(config.max_running, config.max_prefill_tokens)
    fairness = TenantAccounting() if config.fair_share else FairShareOff()
    policies: list[SchedulingPolicy] = []
    if config.scheduler == "goodput":
        policies.append(GoodputPolicy(queues))
    if store is not None:
        policies.append(ReuseOrder(block_manager, store))
    if isinstance(fairness, TenantAccounting):
        policies.append(FairSharePolicy(fairness, queues))
    swapper = Swapper(block_manager, host_pool) if config.preemption == "swap" and host_pool is not None else NoSwap()
    runner: StepRunner = ModelRunner(model, pool)
    if store is not None and config.kvshare_recompute_ratio is not None:
        runner = KVShareRunner(
            runner, model, block_manager, store, config.kvshare_recompute_ratio, config.kvshare_check_layer
        )
    scheduler = Scheduler(block_manager, queues, policies, swapper)
    return LLMEngine(model, tokenizer, config, EngineParts(pool, host_pool, block_manager, scheduler, runner, fairness))


def _block_manager(
    config: EngineConfig, pool: KVPool, host_pool: HostKVPool | None, chunk_store: EvictableStore
) -> BlockManager:
    tier_pool = host_pool if config.uses_host_prefix_cache else None
    # With a host tier: room for about one step's prefill, at most an eighth of the pool.
    spill_ahead = (
        min(-(-config.max_prefill_tokens // pool.block_size), pool.num_blocks // 8)
        if tier_pool is not None and config.enable_prefix_cache
        else 0
    )
    return BlockManager(pool, config.enable_prefix_cache, tier_pool, spill_ahead, chunk_store)
