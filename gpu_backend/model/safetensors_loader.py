"""Read a Hugging Face model folder: config.json, *.safetensors, tokenizer.json, chat template."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from tqdm import tqdm

from gpu_backend.errors import UnsupportedModel
from gpu_backend.model.config import LlamaConfig
from gpu_backend.model.tokenizer import Tokenizer

_SUPPORTED_MODEL_TYPES = ("llama",)


@dataclass
class HFFolderContents:
    config: LlamaConfig
    weights: dict[str, torch.Tensor]  # HF parameter names -> float32 CPU tensors
    tokenizer: Tokenizer
    chat_template: str | None
    generation_config: dict[str, Any]  # generation_config.json ({} when absent)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _as_ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, list) else [int(value)]


def _chat_template(folder: Path, tokenizer_config: dict[str, Any]) -> str | None:
    jinja_file = folder / "chat_template.jinja"
    if jinja_file.exists():
        return jinja_file.read_text()
    template = tokenizer_config.get("chat_template")
    if isinstance(template, list):  # several named templates: the default one renders chats
        named = {entry["name"]: entry["template"] for entry in template}
        template = named.get("default")
    return template


def load_safetensors_folder(folder: str | Path, progress: bool = True) -> HFFolderContents:
    folder = Path(folder)
    hf_config = _read_json(folder / "config.json")
    if not hf_config:
        raise FileNotFoundError(f"{folder} has no config.json")
    if hf_config.get("model_type") not in _SUPPORTED_MODEL_TYPES:
        raise UnsupportedModel(f"{folder}: model_type {hf_config.get('model_type')!r} is not supported (only 'llama')")
    if not (folder / "tokenizer.json").exists():
        raise FileNotFoundError(f"{folder} has no tokenizer.json")
    config = LlamaConfig.from_hf_config(hf_config)

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{folder} has no *.safetensors files")
    weights: dict[str, torch.Tensor] = {}
    with tqdm(desc=f"loading {folder.name}", unit="tensor", file=sys.stderr, disable=not progress) as bar:
        for file in files:
            with safe_open(str(file), framework="pt") as handle:
                keys = list(handle.keys())
                bar.total = (bar.total or 0) + len(keys)
                for key in keys:
                    weights[key] = handle.get_tensor(key).to(torch.float32)
                    bar.update()

    generation_config = _read_json(folder / "generation_config.json")
    eos_ids = _as_ids(hf_config.get("eos_token_id")) + _as_ids(generation_config.get("eos_token_id"))
    tokenizer = Tokenizer.from_hf_folder(folder, eos_ids)
    template = _chat_template(folder, _read_json(folder / "tokenizer_config.json"))
    return HFFolderContents(
        config=config, weights=weights, tokenizer=tokenizer, chat_template=template, generation_config=generation_config
    )
