"""The cross-encoder as an int8 ONNX graph: exported once from its saved weights, checked, reused.

As for the embedder (gateway/cache/onnx_export.py): torch.onnx exports the network, ONNX Runtime's
BERT fusions rewrite its layers, dynamic quantisation gives the MatMul and Attention nodes int8
weights (one scale per output channel), and the file is kept only when its logits on PROBE_PAIRS
stay within MAX_LOGIT_ERROR of PyTorch's. The graph holds the 47 MB word-embedding matrix, so it is
built at start into `var/models/` (SEMGATE_MODEL_CACHE) rather than kept with the weights; its name carries a hash
of the saved weights and of the torch, ONNX Runtime and opset versions.
"""

import hashlib
import logging
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gateway.cache.bundled_model import bundled_model_dir
from gateway.cache.cross_encoder import PairTokenizer, SavedWeights, trained_classifier
from gateway.cache.minilm import INPUTS
from gateway.cache.onnx_export import OPSET, fuse, model_cache_dir, quantize, trace

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)
# int8 activations are quantised per run: the logits move by a few hundredths (measured up to ~0.1 on
# PROBE_PAIRS); a broken quantisation moves them by whole units.
MAX_LOGIT_ERROR = 0.35
PROBE_PAIRS = (
    ("How do I learn Python quickly?", "What is the fastest way to learn Python?"),
    ("Can I fly from Paris to Rome today?", "Can I fly from Rome to Paris today?"),
    ("Is the pharmacy open at 9 am?", "Is the pharmacy open at 9 pm?"),
    ("hi", "What's the best way to invest $10,000 in 2024 if I don't want any risk?"),
    ("Why is the sky blue during the day but red at sunset? " * 6, "Why is the sky blue?"),
)


class OnnxPairScorer:
    """Raw logits for token batches, by ONNX Runtime on few threads that sleep rather than spin (the
    gateway shares its cores with the event loop and often with the backend)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(None, {name: inputs[name] for name in INPUTS})[0]


def onnx_pair_scorer(
    weights: Path, saved: SavedWeights, threads: int = 1, cache_dir: Path | None = None
) -> OnnxPairScorer:
    """The int8 graph for `weights`, exported (and checked) first when this machine has none yet."""
    path = (cache_dir or model_cache_dir()) / f"cross-encoder-{_version_key(weights)}.onnx"
    if not path.exists():
        export(saved, path)
    return OnnxPairScorer(path, threads)


def export(saved: SavedWeights, path: Path) -> None:
    """Export, fuse, quantise, compare with PyTorch on PROBE_PAIRS; only then move the file into place."""
    import torch

    log.info("exporting the cross-encoder to %s (once)", path)
    model_dir = bundled_model_dir()
    module = trained_classifier(saved, model_dir)
    tokenizer = PairTokenizer(saved.max_tokens, model_dir)
    example = tokenizer([("a short one", "a short two"), ("a somewhat longer example", "and its partner here")])
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        with torch.inference_mode():
            trace(module, example, staged, "logit", {0: "batch"})
        fuse(staged, model_dir, layers=saved.layers)
        quantize(staged)
        error = logit_error(module, OnnxPairScorer(staged), tokenizer, list(PROBE_PAIRS))
        if error > MAX_LOGIT_ERROR:
            raise ValueError(f"the int8 cross-encoder graph disagrees with PyTorch (logit error {error:.3f})")
        os.replace(staged, path)  # atomic: a concurrent reader sees no file or a checked one
    log.info("cross-encoder exported as an int8 graph (largest logit error against PyTorch %.3f)", error)


def logit_error(
    module: "torch.nn.Module", scorer: OnnxPairScorer, tokenizer: PairTokenizer, pairs: list[tuple[str, str]]
) -> float:
    """The largest |logit| difference between PyTorch and the graph, each pair scored alone."""
    import torch

    worst = 0.0
    for pair in pairs:
        inputs = tokenizer([pair])
        with torch.inference_mode():
            reference = module(*(torch.from_numpy(inputs[k]) for k in INPUTS)).numpy()
        worst = max(worst, float(np.abs(scorer(inputs) - reference).max()))
    return worst


def _version_key(weights: Path) -> str:
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    versions = f"{metadata.version('torch')}|{metadata.version('onnxruntime')}|opset{OPSET}"
    return hashlib.sha256(f"{digest}|{versions}".encode()).hexdigest()[:12]
