"""Semi-PD phase split: prefill and decode workers over one shared KV pool, with an SLO-aware
controller of how the compute is split between them (see engine.py)."""

from gpu_backend.engine.phase_split.controller import SplitChange, SplitController
from gpu_backend.engine.phase_split.engine import PhaseSplitEngine
from gpu_backend.engine.phase_split.split import PhaseSplit, candidate_splits, default_split

__all__ = ["PhaseSplit", "PhaseSplitEngine", "SplitChange", "SplitController", "candidate_splits", "default_split"]
