"""GGUF loading: each dequantiser within its format's error, llama.cpp's Q/K permutation
undone, tied and untied heads, against HF transformers loading the same (tiny) file."""

import os

import gguf
import numpy as np
import pytest
import torch
from gguf import GGMLQuantizationType as Q
from gguf.quants import quantize

from gpu_backend.batch import StepBatch
from gpu_backend.model import load_model
from gpu_backend.model.gguf_loader import dequantize_tensor, unpermute_rope_rows


def block_error_bound(x: np.ndarray, qtype: Q) -> np.ndarray:
    """Largest error each element may have after a round trip (per 32-value block for quants)."""
    blocks = x.reshape(-1, 32)
    amax = np.abs(blocks).max(axis=1, keepdims=True)
    spread = blocks.max(axis=1, keepdims=True) - blocks.min(axis=1, keepdims=True)
    fp16_eps = 2.0**-11  # the block scales themselves are stored as float16
    bounds = {
        Q.F32: np.zeros_like(blocks),
        Q.F16: np.abs(blocks) * fp16_eps + 1e-7,
        # round to nearest of 255 levels; the value of largest magnitude sits on a level
        Q.Q8_0: np.broadcast_to(amax / 127 * (0.5 + 127 * fp16_eps), blocks.shape),
        # 16 levels from -8d to 7d with d = -max/8: the far side can lose a whole step
        Q.Q4_0: np.broadcast_to(amax / 8 * (1 + 8 * fp16_eps), blocks.shape),
        # 16 levels from min to max: half a step, plus the float16 min and scale
        Q.Q4_1: np.broadcast_to(spread / 15 * (0.5 + 15 * fp16_eps) + amax * fp16_eps, blocks.shape),
    }
    return bounds[qtype].reshape(x.shape)


@pytest.mark.parametrize("qtype", [Q.F32, Q.F16, Q.Q8_0, Q.Q4_0, Q.Q4_1])
def test_dequantised_tensor_is_within_format_error(tmp_path, qtype):
    x = np.random.default_rng(int(qtype)).standard_normal((48, 96)).astype(np.float32) * 0.7
    x[3, :32] = 0.0  # an all-zero block must come back as zeros, not NaN
    path = tmp_path / "one.gguf"
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tensor("t", quantize(x, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    (tensor,) = gguf.GGUFReader(str(path)).tensors
    restored = dequantize_tensor(tensor)
    assert restored.dtype == torch.float32 and restored.shape == (48, 96)
    error = np.abs(restored.numpy() - x)
    assert (error <= block_error_bound(x, qtype)).all()
    assert (restored[3, :32] == 0).all()
    if qtype != Q.F32:
        assert error.max() > 0  # the round trip did quantise


def llama_cpp_permute(weight: np.ndarray, num_heads: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: rotate-half rows -> interleaved pairs."""
    return weight.reshape(num_heads, 2, weight.shape[0] // num_heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def test_unpermute_inverts_llama_cpp_permute():
    w = torch.randn(3 * 64, 40)
    assert torch.equal(unpermute_rope_rows(torch.from_numpy(llama_cpp_permute(w.numpy(), 3)), 3), w)


HIDDEN, HEADS, KV_HEADS, HEAD_DIM, FFN, LAYERS = 64, 4, 2, 16, 96, 2
BYTE_TOKENS = [chr(c) for c in [*range(33, 127), *range(161, 173), *range(174, 256)]]
BYTE_TOKENS += [chr(256 + n) for n in range(256 - len(BYTE_TOKENS))]
TOKENS = BYTE_TOKENS + ["Ġt", "<|endoftext|>", "<|im_end|>"]


def write_tiny_llama(path, tied: bool, seed: int, rope_freqs: np.ndarray | None = None) -> None:
    """A random 2-layer Llama in the quant types a real file mixes, Q/K permuted as llama.cpp does."""
    rng = np.random.default_rng(seed)
    rand = lambda *shape: (rng.standard_normal(shape) * 0.2).astype(np.float32)  # noqa: E731
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_context_length(256)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(TOKENS))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(TOKENS)
    writer.add_token_types([1] * (len(TOKENS) - 2) + [3, 3])
    writer.add_token_merges(["Ġ t"])
    writer.add_eos_token_id(len(TOKENS) - 1)
    writer.add_bos_token_id(len(TOKENS) - 2)

    def add(name: str, value: np.ndarray, qtype: Q) -> None:
        writer.add_tensor(name, quantize(value, qtype), raw_dtype=qtype)

    add("token_embd.weight", rand(len(TOKENS), HIDDEN), Q.Q8_0)
    add("output_norm.weight", 1 + rand(HIDDEN), Q.F32)
    if not tied:
        add("output.weight", rand(len(TOKENS), HIDDEN), Q.Q4_1)
    if rope_freqs is not None:
        add("rope_freqs.weight", rope_freqs, Q.F32)
    for i in range(LAYERS):
        add(f"blk.{i}.attn_norm.weight", 1 + rand(HIDDEN), Q.F32)
        add(f"blk.{i}.attn_q.weight", llama_cpp_permute(rand(HEADS * HEAD_DIM, HIDDEN), HEADS), Q.Q4_0)
        add(f"blk.{i}.attn_k.weight", llama_cpp_permute(rand(KV_HEADS * HEAD_DIM, HIDDEN), KV_HEADS), Q.Q4_1)
        add(f"blk.{i}.attn_v.weight", rand(KV_HEADS * HEAD_DIM, HIDDEN), Q.Q8_0)
        add(f"blk.{i}.attn_output.weight", rand(HIDDEN, HEADS * HEAD_DIM), Q.F16)
        add(f"blk.{i}.ffn_norm.weight", 1 + rand(HIDDEN), Q.F32)
        add(f"blk.{i}.ffn_gate.weight", rand(FFN, HIDDEN), Q.Q4_0)
        add(f"blk.{i}.ffn_up.weight", rand(FFN, HIDDEN), Q.Q8_0)
        add(f"blk.{i}.ffn_down.weight", rand(HIDDEN, FFN), Q.Q4_1)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@pytest.mark.parametrize("tied", [True, False])
def test_tiny_gguf_logits_match_hf(tmp_path, tied):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoModelForCausalLM

    write_tiny_llama(tmp_path / "tiny.gguf", tied=tied, seed=int(tied))
    ours = load_model(tmp_path / "tiny.gguf", progress=False)
    assert ours.config.tie_word_embeddings == tied
    assert (ours.model.lm_head is ours.model.embed_tokens) == tied
    assert ours.chat_template.is_fallback  # the file has no template
    assert ours.tokenizer.eos_id == len(TOKENS) - 1 and ours.tokenizer.encode(" t<|im_end|>") == [256, 258]

    hf = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file="tiny.gguf", dtype=torch.float32).eval()
    ids = torch.randint(0, len(TOKENS), (40,), generator=torch.Generator().manual_seed(0))
    k = torch.zeros(LAYERS, 3, 16, KV_HEADS, HEAD_DIM)
    v = torch.zeros_like(k)
    batch = StepBatch(
        is_prefill=True, slot_mapping=torch.tensor([[32, 0, 16][p // 16] + p % 16 for p in range(40)]),
        block_tables=torch.tensor([[2, 0, 1]], dtype=torch.int32), context_lens=torch.tensor([40], dtype=torch.int32),
        cu_seqlens_q=torch.tensor([0, 40], dtype=torch.int32), logits_indices=torch.arange(40),
        max_seqlen_q=40, max_context_len=40,
    )
    logits = ours.model(ids, torch.arange(40), batch, k, v)
    with torch.inference_mode():
        reference = hf(ids[None]).logits[0]
    assert (logits - reference).abs().max().item() < 1e-4


def test_rope_freqs_tensor_divides_the_frequencies(tmp_path):
    # llama.cpp stores llama3-style RoPE scaling as per-frequency divisors in rope_freqs.weight
    factors = np.linspace(1.0, 8.0, HEAD_DIM // 2).astype(np.float32)
    write_tiny_llama(tmp_path / "scaled.gguf", tied=True, seed=2, rope_freqs=factors)
    cos_sin = load_model(tmp_path / "scaled.gguf", progress=False).model.cos_sin
    inv_freq = 1.0 / (10000.0 ** (np.arange(0, HEAD_DIM, 2) / HEAD_DIM)) / factors
    angles = np.outer(np.arange(256), inv_freq)
    assert np.allclose(cos_sin.numpy(), np.concatenate([np.cos(angles), np.sin(angles)], axis=1), atol=1e-6)
