"""What callers read of an engine (server, metrics, benches, tests), forwarded to the core
engine a driver wraps: the phase split replaces how steps run, not what an engine holds."""

from collections.abc import Collection

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.config import EngineConfig
from gpu_backend.engine.engine import LLMEngine
from gpu_backend.engine.fairness import FairShareOff, TenantAccounting
from gpu_backend.engine.grammar import GrammarCompiler
from gpu_backend.engine.model_runner import ModelRunner
from gpu_backend.engine.sampling_params import SamplingParams
from gpu_backend.engine.scheduler import Scheduler
from gpu_backend.engine.sequence import Sequence
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.engine.stats import EngineStats
from gpu_backend.errors import InvalidConfig
from gpu_backend.kv import HostKVPool, KVPool, TieredRadixCache
from gpu_backend.model import LlamaModel, Tokenizer


class CoreView:
    def __init__(self, core: LLMEngine) -> None:
        self.core = core

    @property
    def model(self) -> LlamaModel:
        return self.core.model

    @property
    def model_runner(self) -> ModelRunner:
        """The core's plain runner, whose step inputs a driver computes elsewhere (KVShare's is not one)."""
        runner = self.core.runner
        if not isinstance(runner, ModelRunner):
            raise InvalidConfig(f"a driver needs the core's plain ModelRunner, not {type(runner).__name__}")
        return runner

    @property
    def tokenizer(self) -> Tokenizer:
        return self.core.tokenizer

    @property
    def config(self) -> EngineConfig:
        return self.core.config

    @property
    def pool(self) -> KVPool:
        return self.core.pool

    @property
    def host_pool(self) -> HostKVPool | None:
        return self.core.host_pool

    @property
    def host_tier(self) -> TieredRadixCache | None:
        return self.core.host_tier

    @property
    def block_manager(self) -> BlockManager:
        return self.core.block_manager

    @property
    def scheduler(self) -> Scheduler:
        return self.core.scheduler

    @property
    def fairness(self) -> TenantAccounting | FairShareOff:
        return self.core.fairness

    @property
    def stats(self) -> EngineStats:
        return self.core.stats

    @property
    def max_model_len(self) -> int:
        return self.core.max_model_len

    @property
    def grammars(self) -> GrammarCompiler:
        return self.core.grammars

    @property
    def reuses_chunks(self) -> bool:
        return self.core.reuses_chunks

    def check_request(self, prompt_token_ids: list[int], params: SamplingParams) -> None:
        self.core.check_request(prompt_token_ids, params)

    def new_seq_id(self) -> int:
        return self.core.new_seq_id()

    def has_unfinished(self) -> bool:
        return self.core.has_unfinished()

    def add_request(
        self,
        prompt_token_ids: list[int],
        params: SamplingParams,
        seq_id: int | None = None,
        slo: RequestSLO | None = None,
        tenant: str = "",
        chunk_spans: list[tuple[int, int]] | None = None,
        siblings: Collection[tuple[int, SamplingParams]] = (),
    ) -> Sequence:
        return self.core.add_request(prompt_token_ids, params, seq_id, slo, tenant, chunk_spans, siblings)
