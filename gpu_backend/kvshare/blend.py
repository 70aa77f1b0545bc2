"""Selective recompute ("blend"): prefill a prompt whose middle chunks come from the store.

After CacheBlend / KVShare's high-deviation recompute. The reused chunks' K/V (re-rotated
to their new positions) are copied into the request's own blocks; then, layer by layer:
- tokens that are not reused are computed in every layer;
- up to and including `check_layer`, reused tokens are computed too; at that layer their
  fresh K/V are compared with the reused ones, and the `recompute_ratio` fraction with the
  largest deviation stays active; the others keep the reused K/V in later layers;
- after it, only the active tokens are computed; their fresh K/V overwrite the reused ones.
Queries attend causally by absolute position over the whole context (cached prefix, reused
and fresh K/V alike). Ratio 1.0 is a full recompute.

Uses the model's layer weights and the kernel API (norms, RoPE, store_kv); attention is
over scattered query positions, so it has its own (torch) masked form here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F

from gpu_backend.errors import InvalidConfig, KVStateError, UnsupportedModel
from gpu_backend.kernels import apply_rope, fused_add_rms_norm, rms_norm, store_kv
from gpu_backend.kvshare.rerotate import rerotate_keys
from gpu_backend.model.linear import linear
from gpu_backend.model.llama import DecoderLayer, LlamaModel


@dataclass
class ReusedKV:
    start: int  # position of the chunk's first token in this prompt
    k: torch.Tensor  # [num_layers, n, Hkv, D], rotated for positions old_start..
    v: torch.Tensor
    old_start: int


@dataclass
class BlendResult:
    logits: torch.Tensor  # [vocab] float32, for the prompt's last token
    num_reused: int  # prompt tokens whose K/V came from the store
    num_recomputed: int  # of those, recomputed in every layer
    token_layers: int  # token x layer forward passes this prefill ran


def _attend(
    q: torch.Tensor,
    q_positions: torch.Tensor,
    k_layer: torch.Tensor,
    v_layer: torch.Tensor,
    table: torch.Tensor,
    context_len: int,
    scale: float,
) -> torch.Tensor:
    """q [n, H, D] at absolute `q_positions` over the first `context_len` pool positions of a
    sequence with block `table`; causal by position."""
    blocks, block_size, num_kv_heads, head_dim = k_layer.shape
    used = table[: -(-context_len // block_size)]
    keys = k_layer.view(blocks, -1).index_select(0, used).view(-1, num_kv_heads, head_dim)[:context_len]
    values = v_layer.view(blocks, -1).index_select(0, used).view(-1, num_kv_heads, head_dim)[:context_len]
    mask = torch.arange(context_len, device=q.device)[None, :] <= q_positions[:, None]
    out = F.scaled_dot_product_attention(
        q.transpose(0, 1)[None],
        keys.transpose(0, 1)[None].to(q.dtype),
        values.transpose(0, 1)[None].to(q.dtype),
        attn_mask=mask,
        scale=scale,
        enable_gqa=q.shape[1] != num_kv_heads,
    )
    return out[0].transpose(0, 1)


def _select(deviation: torch.Tensor, ratio: float) -> torch.Tensor:
    """Indices (into `deviation`) of the ceil(ratio * n) largest deviations."""
    count = min(deviation.numel(), math.ceil(ratio * deviation.numel() - 1e-9))
    return torch.topk(deviation, count).indices if count else deviation.new_zeros(0, dtype=torch.long)


@torch.inference_mode()
def blend_prefill(
    model: LlamaModel,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
    token_ids: list[int],
    block_table: list[int],
    num_cached: int,
    reused: list[ReusedKV],
    recompute_ratio: float,
    check_layer: int = 1,
) -> BlendResult:
    """Compute prompt positions [num_cached, len(token_ids)) into the sequence's blocks
    (`block_table` must cover the prompt; [0, num_cached) are already in the pool) and
    return the last token's logits. `reused` chunks must not overlap, lie at or after
    num_cached and end before the last token."""
    if not 0.0 <= recompute_ratio <= 1.0:
        raise InvalidConfig(f"recompute_ratio must lie in [0, 1], got {recompute_ratio}")
    cfg, device = model.config, k_cache.device
    total, num_layers, block_size = len(token_ids), cfg.num_layers, k_cache.shape[2]
    check_layer = min(check_layer, num_layers - 1)
    table = torch.as_tensor(block_table, dtype=torch.long, device=device)
    positions = torch.arange(num_cached, total, device=device)
    slots = table[positions // block_size] * block_size + positions % block_size
    is_reused = torch.zeros(total - num_cached, dtype=torch.bool, device=device)
    old_positions = []
    for chunk in reused:
        n = chunk.k.shape[1]
        if chunk.start < num_cached or chunk.start + n >= total:
            raise KVStateError("a reused chunk must lie after the cached prefix and before the last token")
        rows = slice(chunk.start - num_cached, chunk.start - num_cached + n)
        if bool(is_reused[rows].any()):
            raise KVStateError("reused chunks overlap")
        is_reused[rows] = True
        old_positions.append(torch.arange(chunk.old_start, chunk.old_start + n, device=device))
    num_reused = int(is_reused.sum())
    if reused:  # all chunks and layers in one rotation and one copy (layers ride on the head axis)
        new_positions = torch.cat(
            [positions[c.start - num_cached : c.start - num_cached + c.k.shape[1]] for c in reused]
        )
        keys = torch.cat([c.k for c in reused], dim=1)  # [L, R, Hkv, D]
        values = torch.cat([c.v for c in reused], dim=1)
        reused_count, heads = keys.shape[1], keys.shape[2]
        moved = rerotate_keys(
            keys.transpose(0, 1).reshape(reused_count, num_layers * heads, -1),
            torch.cat(old_positions),
            new_positions,
            model.cos_sin,
        )
        moved = moved.view(reused_count, num_layers, heads, -1).transpose(0, 1)
        target = table[new_positions // block_size] * block_size + new_positions % block_size
        k_cache.view(num_layers, -1, *k_cache.shape[3:])[:, target] = moved.to(k_cache.dtype)
        v_cache.view(num_layers, -1, *v_cache.shape[3:])[:, target] = values.to(v_cache.dtype)

    active = torch.arange(total - num_cached, device=device)  # rows of `positions` still computed
    hidden = F.embedding(torch.as_tensor(token_ids[num_cached:], device=device), model.embed_tokens)
    residual: torch.Tensor | None = None
    token_layers, num_recomputed = 0, num_reused
    scale = cfg.head_dim**-0.5
    layers = cast(list[DecoderLayer], list(model.layers))  # nn.ModuleList is untyped; LlamaModel fills it so
    for index, layer in enumerate(layers):
        token_layers += active.numel()
        if residual is None:
            residual, x = hidden, rms_norm(hidden, layer.input_norm, cfg.rms_norm_eps)
        else:
            x, residual = fused_add_rms_norm(hidden, residual, layer.input_norm, cfg.rms_norm_eps)
        q, k, v = linear(x, layer.qkv_proj).split([cfg.q_size, cfg.kv_size, cfg.kv_size], dim=-1)
        n = active.numel()
        q, k = apply_rope(
            q.view(n, cfg.num_heads, cfg.head_dim),
            k.view(n, cfg.num_kv_heads, cfg.head_dim),
            positions[active],
            model.cos_sin,
        )
        v = v.view(n, cfg.num_kv_heads, cfg.head_dim)
        keep = None
        if index == check_layer and num_reused and recompute_ratio < 1.0:
            reused_rows = is_reused[active].nonzero().squeeze(1)
            old_k = k_cache[index].view(-1, cfg.num_kv_heads, cfg.head_dim)[slots[active[reused_rows]]]
            old_v = v_cache[index].view(-1, cfg.num_kv_heads, cfg.head_dim)[slots[active[reused_rows]]]
            deviation = (k[reused_rows] - old_k).float().pow(2).sum((1, 2)) + (v[reused_rows] - old_v).float().pow(
                2
            ).sum((1, 2))
            chosen = reused_rows[_select(deviation, recompute_ratio)]
            keep = ~is_reused[active]
            keep[chosen] = True
            num_recomputed = int(chosen.numel())
        store_kv(k, v, k_cache[index], v_cache[index], slots[active])
        attn = _attend(q, positions[active], k_cache[index], v_cache[index], table, total, scale)
        hidden = linear(attn.reshape(n, cfg.q_size), layer.o_proj)
        x, residual = fused_add_rms_norm(hidden, residual, layer.post_attention_norm, cfg.rms_norm_eps)
        gate, up = linear(x, layer.gate_up_proj).chunk(2, dim=-1)
        hidden = linear(F.silu(gate).mul_(up), layer.down_proj)
        if keep is not None:
            hidden, residual, active = hidden[keep], residual[keep], active[keep]
    if residual is None:
        raise UnsupportedModel("the model has no decoder layers")
    x, _ = fused_add_rms_norm(hidden[-1:], residual[-1:], model.norm, cfg.rms_norm_eps)
    logits = linear(x, model.lm_head).float()[0]
    return BlendResult(logits, num_reused, num_recomputed, token_layers)
