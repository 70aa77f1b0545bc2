"""all-MiniLM-L6-v2 without sentence-transformers: tokenizer, transformer, mean pooling, L2 norm.

This computes what `SentenceTransformer(...).encode(normalize_embeddings=True)` computes, minus its
per-call overhead: texts are padded only to the longest in their batch, batches are formed from
texts of similar length, and the transformer runs either as an ONNX Runtime session
(gateway/cache/onnx_export.py; the int8 graph takes about a fifth of PyTorch's time for one short
query on this machine) or as the PyTorch module under `inference_mode`.
tests/gateway/cache/test_minilm.py holds PyTorch and the fp32 ONNX graphs to cosine >= 0.9999
against sentence-transformers on real queries, and the int8 graph the gateway runs to >= 0.97, with
pair similarities within a few hundredths of sentence-transformers' own.
"""

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

from gateway.cache.coverage import EmbeddingWindow

DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class Transformer(Protocol):
    name: str  # "onnx" or "torch"
    precision: str  # "fp32" or "int8"

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Token embeddings (batch, tokens, dim) for int64 inputs named as in INPUTS."""


class TorchTransformer:
    """The BertModel in PyTorch, `threads` intra-op threads for the process (None: torch's default)."""

    name = "torch"
    precision = "fp32"

    def __init__(self, model_dir: Path, threads: int | None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship with the package
        import torch
        from transformers import AutoModel

        if threads:
            torch.set_num_threads(threads)
        self._torch = torch
        self.module = AutoModel.from_pretrained(str(model_dir)).eval()

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        with self._torch.inference_mode():
            tensors = {k: self._torch.from_numpy(v) for k, v in inputs.items()}
            return self.module(**tensors).last_hidden_state.numpy()


class OnnxTransformer:
    """The same network exported to ONNX, run by ONNX Runtime on `threads` threads.

    The threads sleep between runs instead of spinning: with the other core busy (the event loop,
    the bundled backend), a spinning helper turned a lone query's 6.5 ms into 9.7 ms, while a
    sleeping one keeps 7.0 ms there and 4.9 ms on an idle machine (6.8 ms on one thread).

    The int8 graph quantises each layer's input with one scale for the whole run, so a text run
    in a batch would get another vector than alone (cosine 0.98-1.0: its companions and their
    padding widen the scale). It therefore runs each text alone, at its own length: a vector
    depends on its text only, whatever the micro-batch. That costs little, because int8 gains
    almost nothing from batching (2.0-2.2 ms per text batched against 2.3-2.6 alone on this
    machine; fp32 batched: 3.8).
    """

    name = "onnx"

    def __init__(self, onnx_path: Path, threads: int | None, precision: str = "fp32") -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = onnx_path
        self.precision = precision  # "int8" for the quantised graph
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        if self.precision != "int8" or len(inputs["input_ids"]) == 1:
            return self._session.run(None, inputs)[0]
        rows, width = inputs["input_ids"].shape
        out = np.zeros((rows, width, DIM), dtype=np.float32)
        for row, length in enumerate(inputs["attention_mask"].sum(axis=1).tolist()):
            alone = {name: value[row : row + 1, :length] for name, value in inputs.items()}
            out[row, :length] = self._session.run(None, alone)[0][0]
        return out


class MiniLM:
    """Texts to L2-normalised float32 vectors. Thread-safe for one caller at a time."""

    def __init__(self, model_dir: Path, transformer: Transformer) -> None:
        # The window's tokenizer reads only as much of a long text as the window needs (gateway/cache/coverage.py).
        self.window = EmbeddingWindow(model_dir)
        self.max_tokens = self.window.max_tokens
        self.transformer = transformer
        self.dim = DIM

    @property
    def backend(self) -> str:
        return self.transformer.name

    @property
    def identity(self) -> str:
        """Which vectors these are: PyTorch and the fp32 graphs give the same ones (cosine >= 0.9999), the
        int8 graph others. Saved vectors are reused only under the same identity."""
        return f"{MODEL_NAME}/{self.transformer.precision}"

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = [self.window.encode(text)[0] for text in texts]
        # Similar lengths share a batch, so padding (masked out, but computed) stays small.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        starts: Iterable[int] = range(0, len(order), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="embedding", unit="batch")
        for start in starts:
            chosen = order[start : start + batch_size]
            out[chosen] = self._encode_batch([encodings[i] for i in chosen])
        return out

    def inputs(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The transformer's inputs for `texts`, padded to the longest of them."""
        return padded([self.window.encode(text)[0] for text in texts])

    def _encode_batch(self, encodings: list) -> np.ndarray:
        inputs = padded(encodings)
        tokens = self.transformer(inputs)
        mask = inputs["attention_mask"][..., None].astype(np.float32)
        pooled = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def padded(encodings: list) -> dict[str, np.ndarray]:
    """The transformer's inputs for tokenizer `encodings` (single texts or pairs), zero-padded to the longest."""
    width = max(len(e.ids) for e in encodings)
    inputs = {name: np.zeros((len(encodings), width), dtype=np.int64) for name in INPUTS}
    for row, e in enumerate(encodings):
        n = len(e.ids)
        inputs["input_ids"][row, :n] = e.ids
        inputs["attention_mask"][row, :n] = 1
        inputs["token_type_ids"][row, :n] = e.type_ids
    return inputs
