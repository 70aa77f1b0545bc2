"""A tiny randomly initialised Llama for the engine tests: real engine, real tokenizer
(SmolLM2's, from the session fixture), a model small enough to run many requests fast."""

import functools

import torch

from gpu_backend.build import build_engine
from gpu_backend.engine import EngineConfig, LLMEngine
from gpu_backend.model import LlamaConfig, LlamaModel, Tokenizer

TINY_CONFIG = LlamaConfig(
    num_layers=2, hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16, intermediate_size=128,
    rms_norm_eps=1e-5, rope_theta=10000.0, vocab_size=49152, max_position=4096, tie_word_embeddings=True,
)


@functools.cache
def tiny_model() -> LlamaModel:
    """Random weights, scaled so that greedy choices are clear-cut (no near-ties that
    batching's float reordering could flip)."""
    cfg = TINY_CONFIG
    generator = torch.Generator().manual_seed(0)
    rand = lambda *shape, scale=0.3: torch.randn(*shape, generator=generator) * scale  # noqa: E731
    weights = {"model.embed_tokens.weight": rand(cfg.vocab_size, cfg.hidden_size, scale=1.0),
               "model.norm.weight": torch.ones(cfg.hidden_size)}
    for i in range(cfg.num_layers):
        prefix = f"model.layers.{i}"
        weights |= {
            f"{prefix}.input_layernorm.weight": torch.ones(cfg.hidden_size),
            f"{prefix}.post_attention_layernorm.weight": torch.ones(cfg.hidden_size),
            f"{prefix}.self_attn.q_proj.weight": rand(cfg.q_size, cfg.hidden_size),
            f"{prefix}.self_attn.k_proj.weight": rand(cfg.kv_size, cfg.hidden_size),
            f"{prefix}.self_attn.v_proj.weight": rand(cfg.kv_size, cfg.hidden_size),
            f"{prefix}.self_attn.o_proj.weight": rand(cfg.hidden_size, cfg.q_size),
            f"{prefix}.mlp.gate_proj.weight": rand(cfg.intermediate_size, cfg.hidden_size),
            f"{prefix}.mlp.up_proj.weight": rand(cfg.intermediate_size, cfg.hidden_size),
            f"{prefix}.mlp.down_proj.weight": rand(cfg.hidden_size, cfg.intermediate_size),
        }
    return LlamaModel(cfg, weights).eval()


def tiny_engine(tokenizer: Tokenizer, **config: object) -> LLMEngine:
    """A fresh engine (empty pool and prefix cache) over the tiny model; `config` overrides
    EngineConfig fields (kv_budget_bytes defaults to a small pool)."""
    config.setdefault("kv_budget_bytes", 4 << 20)
    return build_engine(tiny_model(), tokenizer, EngineConfig(**config))
