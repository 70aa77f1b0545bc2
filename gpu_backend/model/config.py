"""The shape of a Llama-family model, read from GGUF metadata or a HF config.json."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpu_backend.errors import UnsupportedModel


@dataclass(frozen=True)
class RopeScaling:
    """How RoPE frequencies are stretched for long contexts (HF `rope_scaling`)."""

    kind: str  # "linear" or "llama3"
    factor: float
    original_max_position: int = 8192
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0


@dataclass(frozen=True)
class LlamaConfig:
    num_layers: int
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    rms_norm_eps: float
    rope_theta: float
    vocab_size: int
    max_position: int
    tie_word_embeddings: bool
    rope_scaling: RopeScaling | None = None

    @property
    def q_size(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_size(self) -> int:
        return self.num_kv_heads * self.head_dim

    @classmethod
    def from_gguf_metadata(cls, meta: dict[str, Any], has_output_tensor: bool) -> LlamaConfig:
        """`meta` maps GGUF keys to plain values; keys are prefixed by the architecture name."""
        arch = meta["general.architecture"]

        def key(name: str, default: Any = None) -> Any:
            value = meta.get(f"{arch}.{name}", default)
            if value is None:
                raise UnsupportedModel(f"GGUF metadata lacks {arch}.{name}")
            return value

        hidden = int(key("embedding_length"))
        heads = int(key("attention.head_count"))
        head_dim = int(
            meta.get(f"{arch}.attention.key_length") or meta.get(f"{arch}.rope.dimension_count") or hidden // heads
        )
        vocab = meta.get(f"{arch}.vocab_size") or len(meta["tokenizer.ggml.tokens"])
        scaling = None
        scaling_type = meta.get(f"{arch}.rope.scaling.type")
        if scaling_type == "linear":
            scaling = RopeScaling(kind="linear", factor=float(key("rope.scaling.factor")))
        elif scaling_type not in (None, "none"):
            raise UnsupportedModel(f"unsupported RoPE scaling {scaling_type!r} in GGUF")
        return cls(
            num_layers=int(key("block_count")),
            hidden_size=hidden,
            num_heads=heads,
            num_kv_heads=int(key("attention.head_count_kv", heads)),
            head_dim=head_dim,
            intermediate_size=int(key("feed_forward_length")),
            rms_norm_eps=float(key("attention.layer_norm_rms_epsilon")),
            rope_theta=float(key("rope.freq_base", 10000.0)),
            vocab_size=int(vocab),
            max_position=int(key("context_length")),
            # llama.cpp writes no output.weight when the head shares the embedding matrix.
            tie_word_embeddings=not has_output_tensor,
            rope_scaling=scaling,
        )

    @classmethod
    def from_hf_config(cls, cfg: dict[str, Any]) -> LlamaConfig:
        """`cfg` is a parsed HF config.json of a LlamaForCausalLM-shaped model."""
        hidden = int(cfg["hidden_size"])
        heads = int(cfg["num_attention_heads"])
        rope = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
        theta = float(cfg.get("rope_theta") or rope.get("rope_theta") or 10000.0)
        kind = rope.get("rope_type") or rope.get("type") or "default"
        scaling = None
        if kind in ("linear", "llama3"):
            scaling = RopeScaling(
                kind=kind,
                factor=float(rope["factor"]),
                original_max_position=int(rope.get("original_max_position_embeddings", 8192)),
                low_freq_factor=float(rope.get("low_freq_factor", 1.0)),
                high_freq_factor=float(rope.get("high_freq_factor", 4.0)),
            )
        elif kind != "default":
            raise UnsupportedModel(f"unsupported RoPE scaling {kind!r} in config.json")
        return cls(
            num_layers=int(cfg["num_hidden_layers"]),
            hidden_size=hidden,
            num_heads=heads,
            num_kv_heads=int(cfg.get("num_key_value_heads") or heads),
            head_dim=int(cfg.get("head_dim") or hidden // heads),
            intermediate_size=int(cfg["intermediate_size"]),
            rms_norm_eps=float(cfg.get("rms_norm_eps", 1e-6)),
            rope_theta=theta,
            vocab_size=int(cfg["vocab_size"]),
            max_position=int(cfg.get("max_position_embeddings", 2048)),
            tie_word_embeddings=bool(cfg.get("tie_word_embeddings", False)),
            rope_scaling=scaling,
        )
