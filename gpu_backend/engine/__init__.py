"""The serving engine: requests, continuous batching scheduler, model runner, sampler."""

from gpu_backend.engine.async_engine import AsyncEngine
from gpu_backend.engine.config import EngineConfig
from gpu_backend.engine.engine import Completion, LLMEngine, RequestOutput
from gpu_backend.engine.sampling_params import SamplingParams
from gpu_backend.engine.sequence import FinishReason, Sequence, SequenceStatus

__all__ = [
    "AsyncEngine",
    "Completion",
    "EngineConfig",
    "FinishReason",
    "LLMEngine",
    "RequestOutput",
    "SamplingParams",
    "Sequence",
    "SequenceStatus",
]
