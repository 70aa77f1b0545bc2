"""Llama-family decoder over the paged KV pool, written against the kernel API only.

Weights are fused at load time (q/k/v into one matrix, gate/up into another) so a layer
runs four matmuls; a step's tokens of all sequences go through as one flat batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gpu_backend.batch import StepBatch
from gpu_backend.errors import UnsupportedModel
from gpu_backend.kernels import (
    apply_rope,
    fused_add_rms_norm,
    paged_decode_attention,
    paged_prefill_attention,
    rms_norm,
    store_kv,
)
from gpu_backend.model.config import LlamaConfig
from gpu_backend.model.linear import linear
from gpu_backend.model.rope import rope_table


def _frozen(tensor: torch.Tensor, like: torch.Tensor) -> nn.Parameter:
    """An inference-only parameter with the device and dtype of `like`."""
    return nn.Parameter(tensor.to(device=like.device, dtype=like.dtype).contiguous(), requires_grad=False)


# The dtype of the layers' projections, by weight format: "fp32" keeps the model's dtype; "bf16"
# stores them in bfloat16 on a float32 model (linear.py computes those matmuls in bfloat16).
WEIGHT_FORMATS = {"fp32": None, "bf16": torch.bfloat16}


class DecoderLayer(nn.Module):
    def __init__(
        self,
        config: LlamaConfig,
        weights: dict[str, torch.Tensor],
        prefix: str,
        like: torch.Tensor,
        matmul_like: torch.Tensor,
    ):
        """`like`: device and dtype of the norms; `matmul_like`: of the projections."""
        super().__init__()
        self.config = config

        def w(name: str) -> torch.Tensor:
            return weights[f"{prefix}.{name}.weight"]

        self.input_norm = _frozen(w("input_layernorm"), like)
        qkv = torch.cat([w("self_attn.q_proj"), w("self_attn.k_proj"), w("self_attn.v_proj")])
        self.qkv_proj = _frozen(qkv, matmul_like)
        self.o_proj = _frozen(w("self_attn.o_proj"), matmul_like)
        self.post_attention_norm = _frozen(w("post_attention_layernorm"), like)
        self.gate_up_proj = _frozen(torch.cat([w("mlp.gate_proj"), w("mlp.up_proj")]), matmul_like)
        self.down_proj = _frozen(w("mlp.down_proj"), matmul_like)

    def forward(
        self,
        hidden: torch.Tensor,
        residual: torch.Tensor | None,
        positions: torch.Tensor,
        batch: StepBatch,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
        cos_sin: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        tokens = hidden.shape[0]
        if residual is None:
            residual, x = hidden, rms_norm(hidden, self.input_norm, cfg.rms_norm_eps)
        else:
            x, residual = fused_add_rms_norm(hidden, residual, self.input_norm, cfg.rms_norm_eps)

        q, k, v = linear(x, self.qkv_proj).split([cfg.q_size, cfg.kv_size, cfg.kv_size], dim=-1)
        q = q.view(tokens, cfg.num_heads, cfg.head_dim)
        k = k.view(tokens, cfg.num_kv_heads, cfg.head_dim)
        v = v.view(tokens, cfg.num_kv_heads, cfg.head_dim)
        q, k = apply_rope(q, k, positions, cos_sin)
        store_kv(k, v, k_cache, v_cache, batch.slot_mapping)
        scale = cfg.head_dim**-0.5
        if not batch.is_prefill:
            attn = paged_decode_attention(q, k_cache, v_cache, batch.block_tables, batch.context_lens, scale)
        elif batch.num_decode_seqs == 0:
            attn = paged_prefill_attention(
                q,
                k_cache,
                v_cache,
                batch.block_tables,
                batch.cu_seqlens_q,
                batch.context_lens,
                scale,
                batch.max_seqlen_q,
            )
        else:  # decodes first (one token each), then prefill chunks
            n = batch.num_decode_seqs
            decoded = paged_decode_attention(
                q[:n], k_cache, v_cache, batch.block_tables[:n], batch.context_lens[:n], scale
            )
            prefilled = paged_prefill_attention(
                q[n:],
                k_cache,
                v_cache,
                batch.block_tables[n:],
                batch.cu_seqlens_q[n:] - n,
                batch.context_lens[n:],
                scale,
                batch.max_seqlen_q,
            )
            attn = torch.cat([decoded, prefilled])
        hidden = linear(attn.reshape(tokens, cfg.q_size), self.o_proj)

        x, residual = fused_add_rms_norm(hidden, residual, self.post_attention_norm, cfg.rms_norm_eps)
        gate, up = linear(x, self.gate_up_proj).chunk(2, dim=-1)
        return linear(F.silu(gate).mul_(up), self.down_proj), residual


class LlamaModel(nn.Module):
    def __init__(
        self,
        config: LlamaConfig,
        weights: dict[str, torch.Tensor],
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        weight_format: str = "fp32",
    ):
        """`weights`: HF parameter names (model.layers.N.self_attn.q_proj.weight, ...) in HF layout;
        lm_head.weight may be absent when the config ties it to the embedding. `weight_format`:
        a key of WEIGHT_FORMATS (the embedding, the head and the norms stay in `dtype` whatever it is)."""
        super().__init__()
        if weight_format not in WEIGHT_FORMATS:
            raise UnsupportedModel(f"weight format {weight_format!r} is not one of {', '.join(WEIGHT_FORMATS)}")
        self.config = config
        self.weight_format = weight_format
        like = torch.empty(0, device=device, dtype=dtype)
        matmul_like = like.to(WEIGHT_FORMATS[weight_format] or dtype)
        self.embed_tokens = _frozen(weights["model.embed_tokens.weight"], like)
        self.layers = nn.ModuleList(
            DecoderLayer(config, weights, f"model.layers.{i}", like, matmul_like) for i in range(config.num_layers)
        )
        self.norm = _frozen(weights["model.norm.weight"], like)
        # The head stays in `dtype` whatever the format: SmolLM2's logits (around 25) put near-ties
        # 0.08 apart, and a bfloat16 head flips them ("What is the capital of France?" starts "L'").
        if config.tie_word_embeddings:
            self.lm_head = self.embed_tokens
        elif "lm_head.weight" in weights:
            self.lm_head = _frozen(weights["lm_head.weight"], like)
        else:
            raise UnsupportedModel("lm_head.weight is missing and the config does not tie it to the embedding")
        # One row (a single decode stream) on a CPU: x @ W.T reads the 113 MB head faster from
        # a [in, out] copy (7.5 ms against 11 ms per step, 1 thread); kept as a plain attribute,
        # so the state dict is unchanged.
        self.lm_head_by_column = (
            self.lm_head.detach().t().contiguous()
            if self.lm_head.device.type == "cpu" and dtype == torch.float32
            else None
        )
        # float32 whatever the weights' dtype: positions far into the context need the precision.
        self.cos_sin = rope_table(config, device, torch.float32, weights.get("rope_freqs"))

    @torch.inference_mode()
    def forward(
        self,
        input_ids: torch.Tensor,
        positions: torch.Tensor,
        batch: StepBatch,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
    ) -> torch.Tensor:
        """input_ids, positions [T] int64; k_cache, v_cache [layers, blocks, block_size, Hkv, D].
        Writes this step's K/V into the pool and returns float32 logits
        [len(batch.logits_indices), vocab] for the rows in batch.logits_indices."""
        hidden = F.embedding(input_ids, self.embed_tokens)
        residual = None
        for index, layer in enumerate(self.layers):
            hidden, residual = layer(hidden, residual, positions, batch, k_cache[index], v_cache[index], self.cos_sin)
        if residual is None:
            raise UnsupportedModel("the model has no decoder layers")
        # Only the sampled rows need the final norm and the (vocab-sized) head.
        rows = batch.logits_indices
        x, _ = fused_add_rms_norm(hidden[rows], residual[rows], self.norm, self.config.rms_norm_eps)
        return self.head(x)

    def head(self, x: torch.Tensor) -> torch.Tensor:
        """Final-normed hidden rows [N, hidden] -> float32 logits [N, vocab]."""
        if x.shape[0] == 1 and self.lm_head_by_column is not None and x.device.type == "cpu":
            return torch.mm(x, self.lm_head_by_column)
        return linear(x, self.lm_head).float()
