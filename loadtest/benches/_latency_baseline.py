"""Earlier embedding paths, for `semgate bench cache-latency` to compare against.

sentence-transformers on PyTorch, one intra-op thread, exactly as gateway/cache/embedder.py
called it before ONNX Runtime; and the fp32 ONNX graph (fused layers) the embedder ran before the
int8 one. Both compute the fp32 vectors, within cosine 0.98 of the int8 graph's (0.995 on average;
tests/gateway/cache/test_minilm.py), so the paths find nearly all the same entries and differ in cost.
"""

import numpy as np

from gateway.cache.bundled_model import bundled_model_dir
from gateway.cache.minilm import MODEL_NAME, MiniLM
from gateway.cache.onnx_export import onnx_transformer
from gateway.cpu_share import EMBED_THREADS_ALONE


class SentenceTransformersModel:
    """The embedding path before ONNX Runtime (sentence-transformers on PyTorch), kept as this bench's baseline."""

    backend = "sentence-transformers"
    identity = f"{MODEL_NAME}/fp32"

    def __init__(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        self._torch = torch
        self._model = SentenceTransformer(str(bundled_model_dir()), device="cpu")
        self.dim = 384

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False,
               as_written: bool = True) -> np.ndarray:
        """Always as written: the baselines predate the canonical form (gateway/cache/canonical.py)."""
        with self._torch.inference_mode():
            return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)


class Fp32OnnxModel:
    """The fp32 ONNX graph with fused layers (the embedder's before int8), on the embedder's threads."""

    backend = "onnx-fp32"
    identity = f"{MODEL_NAME}/fp32"

    def __init__(self) -> None:
        model_dir = bundled_model_dir()
        transformer = onnx_transformer(model_dir, EMBED_THREADS_ALONE, graph="fused")
        if transformer is None:
            raise RuntimeError("the fp32 ONNX graph could not be made (see the log)")
        self._minilm = MiniLM(model_dir, transformer)
        self.dim = self._minilm.dim

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False,
               as_written: bool = True) -> np.ndarray:
        """Always as written, like the model above."""
        return self._minilm.encode(texts, batch_size=batch_size, progress=progress)
