"""The embedding path semgate had before ONNX Runtime, for `semgate bench cache-latency` to compare against.

sentence-transformers on PyTorch, one intra-op thread, exactly as gateway/cache/embedder.py
called it: the same vectors as the current embedder (tests/gateway/cache/test_minilm.py), so
the two paths find the same entries and differ only in cost.
"""

import numpy as np

from gateway.cache.embedder import bundled_model_dir


class SentenceTransformersModel:
    """The embedding path before ONNX Runtime (sentence-transformers on PyTorch), kept as this bench's baseline."""

    backend = "sentence-transformers"

    def __init__(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        self._torch = torch
        self._model = SentenceTransformer(str(bundled_model_dir()), device="cpu")
        self.dim = 384

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        with self._torch.inference_mode():
            return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True)
