"""Read a llama.cpp GGUF file into HF-named, HF-layout float32 weights.

llama.cpp's converter permutes the rows of attn_q / attn_k so that its interleaved RoPE
(rotate pairs 2i, 2i+1) equals HF's rotate-half RoPE. We undo that permutation, exactly as
transformers does when it loads a GGUF, so the model can use rotate-half RoPE throughout.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gguf import GGUFReader, ReaderTensor
from gguf.quants import dequantize
from tqdm import tqdm

from gpu_backend.errors import UnsupportedModel
from gpu_backend.model.config import LlamaConfig

_BLOCK_NAMES = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
    # llama3-style RoPE scaling: per-frequency divisors, applied when building the RoPE table.
    "rope_freqs.weight": "rope_freqs",
}
_BLOCK_RE = re.compile(r"^blk\.(\d+)\.(\w+)\.weight$")


@dataclass
class GGUFContents:
    metadata: dict[str, Any]  # every key-value field, as plain Python values
    config: LlamaConfig
    weights: dict[str, torch.Tensor]  # HF parameter names -> float32 CPU tensors


def hf_name(gguf_name: str) -> str:
    """The transformers parameter name of a GGUF tensor name."""
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    match = _BLOCK_RE.match(gguf_name)
    if match is None or match.group(2) not in _BLOCK_NAMES:
        raise UnsupportedModel(f"unexpected tensor {gguf_name!r} in a Llama GGUF")
    return f"model.layers.{match.group(1)}.{_BLOCK_NAMES[match.group(2)]}.weight"


def unpermute_rope_rows(weight: torch.Tensor, num_heads: int) -> torch.Tensor:
    """Invert llama.cpp's `permute`: per head, rows (pair i, half h) go back to (half h, index i)."""
    rows = weight.shape[0]
    half = rows // num_heads // 2
    return weight.reshape(num_heads, half, 2, *weight.shape[1:]).transpose(1, 2).reshape(weight.shape)


def read_metadata(reader: GGUFReader) -> dict[str, Any]:
    return {name: field.contents() for name, field in reader.fields.items() if not name.startswith("GGUF.")}


def dequantize_tensor(reader_tensor: ReaderTensor) -> torch.Tensor:
    """Any tensor type gguf.quants knows (Q4_0, Q4_1, Q8_0, K-quants, F16, BF16, F32, ...) as float32."""
    array = dequantize(reader_tensor.data, reader_tensor.tensor_type)
    # A copy: F32 tensors come back as views of the read-only memory map.
    return torch.from_numpy(np.array(array, dtype=np.float32))


def load_gguf(path: str | Path, progress: bool = True) -> GGUFContents:
    reader = GGUFReader(str(path))
    metadata = read_metadata(reader)
    arch = metadata.get("general.architecture")
    if arch != "llama":
        raise UnsupportedModel(f"{path}: architecture {arch!r} is not supported (only 'llama')")
    names = {tensor.name for tensor in reader.tensors}
    config = LlamaConfig.from_gguf_metadata(metadata, has_output_tensor="output.weight" in names)

    weights: dict[str, torch.Tensor] = {}
    tensors = tqdm(
        reader.tensors, desc=f"loading {Path(path).name}", unit="tensor", file=sys.stderr, disable=not progress
    )
    for tensor in tensors:
        weight = dequantize_tensor(tensor)
        if ".attn_q." in tensor.name:
            weight = unpermute_rope_rows(weight, config.num_heads)
        elif ".attn_k." in tensor.name:
            weight = unpermute_rope_rows(weight, config.num_kv_heads)
        weights[hf_name(tensor.name)] = weight
    return GGUFContents(metadata=metadata, config=config, weights=weights)
