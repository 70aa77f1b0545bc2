"""Session-wide fixtures for the gpu_backend tests: SmolLM2 loaded once by us and once by
Hugging Face transformers, the reference it must match."""

import os
import sys
from pathlib import Path

import pytest
import torch

from gpu_backend.model import LoadedModel, load_model, resolve_model_path

# The tests mirror gpu_backend's packages by folder (engine/, kv/, model/, server/, ...); the support modules
# beside this file (engine_support, fake_gpu, backend_metrics) serve all of them.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def smollm2() -> LoadedModel:
    return load_model("smollm2-135m", progress=False)


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    return resolve_model_path("smollm2-135m")


@pytest.fixture(scope="session")
def hf_tokenizer(smollm2_gguf: Path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_gguf.parent, gguf_file=smollm2_gguf.name)


@pytest.fixture(scope="session")
def hf_model(smollm2_gguf: Path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(smollm2_gguf.parent, gguf_file=smollm2_gguf.name, dtype=torch.float32)
    return model.eval()
