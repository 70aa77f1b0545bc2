"""The RoPE cos/sin table of a model, including the frequency scalings Llama checkpoints use."""

from __future__ import annotations

import math

import torch

from gpu_backend.kernels import build_rope_cache
from gpu_backend.model.config import LlamaConfig, RopeScaling


def _llama3_inv_freq(inv_freq: torch.Tensor, scaling: RopeScaling) -> torch.Tensor:
    # Llama 3.1: long wavelengths are divided by `factor`, short ones kept, the band between blended.
    low_freq_wavelen = scaling.original_max_position / scaling.low_freq_factor
    high_freq_wavelen = scaling.original_max_position / scaling.high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / scaling.factor, inv_freq)
    smooth = (scaling.original_max_position / wavelen - scaling.low_freq_factor) / (
        scaling.high_freq_factor - scaling.low_freq_factor
    )
    blended = (1 - smooth) * scaled / scaling.factor + smooth * scaled
    medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
    return torch.where(medium, blended, scaled)


def rope_table(
    config: LlamaConfig,
    device: str | torch.device,
    dtype: torch.dtype,
    freq_factors: torch.Tensor | None = None,
) -> torch.Tensor:
    """cos_sin [max_position, head_dim] for kernels.apply_rope. `freq_factors` is a GGUF
    rope_freqs tensor: llama.cpp's form of llama3 scaling (each frequency divided by it)."""
    if config.rope_scaling is None and freq_factors is None:
        return build_rope_cache(config.head_dim, config.max_position, config.rope_theta, device, dtype)
    dim = config.head_dim
    inv_freq = 1.0 / (config.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    if freq_factors is not None:
        inv_freq = inv_freq / freq_factors.to(torch.float64)
    elif config.rope_scaling is not None and config.rope_scaling.kind == "linear":
        inv_freq = inv_freq / config.rope_scaling.factor
    elif config.rope_scaling is not None:
        inv_freq = _llama3_inv_freq(inv_freq, config.rope_scaling)
    angles = torch.outer(torch.arange(config.max_position, dtype=torch.float64), inv_freq)
    return torch.cat([angles.cos(), angles.sin()], dim=-1).to(device=device, dtype=dtype)
