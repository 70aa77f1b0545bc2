"""Llama-family models for the bundled backend: loading (GGUF, safetensors), tokenizer, chat template."""

from gpu_backend.model.chat_template import ChatTemplate
from gpu_backend.model.config import LlamaConfig, RopeScaling
from gpu_backend.model.llama import WEIGHT_FORMATS, LlamaModel
from gpu_backend.model.loader import DTYPES, PACKAGED_MODELS, LoadedModel, load_model, resolve_model_path
from gpu_backend.model.sampling_defaults import SamplingDefaults
from gpu_backend.model.tokenizer import IncrementalDetokenizer, Tokenizer

__all__ = [
    "DTYPES",
    "PACKAGED_MODELS",
    "WEIGHT_FORMATS",
    "ChatTemplate",
    "IncrementalDetokenizer",
    "LlamaConfig",
    "LlamaModel",
    "LoadedModel",
    "RopeScaling",
    "SamplingDefaults",
    "Tokenizer",
    "load_model",
    "resolve_model_path",
]
