"""Semi-PD phase split: prefill and decode workers over one shared KV pool, with an SLO-aware
controller of how the compute is split between them (see engine.py)."""

from gpu_backend.engine.config import EngineConfig
from gpu_backend.engine.engine import LLMEngine
from gpu_backend.engine.phase_split.controller import SplitChange, SplitController
from gpu_backend.engine.phase_split.engine import PhaseSplitEngine
from gpu_backend.engine.phase_split.split import PhaseSplit, candidate_splits, default_split
from gpu_backend.model import LlamaModel, Tokenizer


def build_engine(model: LlamaModel, tokenizer: Tokenizer, config: EngineConfig) -> LLMEngine:
    """The engine `config` asks for: phase split or unified."""
    return (PhaseSplitEngine if config.phase_split else LLMEngine)(model, tokenizer, config)


__all__ = ["PhaseSplit", "PhaseSplitEngine", "SplitChange", "SplitController", "build_engine",
           "candidate_splits", "default_split"]
