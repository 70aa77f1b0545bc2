"""A HF safetensors folder (config.json, *.safetensors, tokenizer files) loads into a model
that matches transformers' LlamaForCausalLM, RoPE scalings included."""

import json
import os

import pytest
import torch

from gpu_backend.batch import StepBatch
from gpu_backend.model import SamplingDefaults, load_model

ROPE_VARIANTS = {
    "default": None,
    "linear": {"rope_type": "linear", "factor": 4.0},
    "llama3": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 64},
}


def save_tiny_llama(folder, hf_tokenizer, rope: str, tied: bool):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(hf_tokenizer), hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, rms_norm_eps=1e-5,
        tie_word_embeddings=tied, bos_token_id=hf_tokenizer.bos_token_id, eos_token_id=hf_tokenizer.eos_token_id,
    )
    if ROPE_VARIANTS[rope] is not None:
        config.rope_parameters = {"rope_theta": 10000.0, **ROPE_VARIANTS[rope]}
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(folder)
    hf_tokenizer.save_pretrained(folder)
    return model


@pytest.mark.parametrize(("rope", "tied"), [("default", True), ("linear", False), ("llama3", True)])
def test_safetensors_folder_matches_hf(tmp_path, hf_tokenizer, rope, tied):
    reference = save_tiny_llama(tmp_path, hf_tokenizer, rope, tied)
    assert list(tmp_path.glob("*.safetensors"))
    loaded = load_model(tmp_path, progress=False)
    if rope != "default":
        assert loaded.config.rope_scaling.kind == rope
    assert (loaded.model.lm_head is loaded.model.embed_tokens) == tied

    length = 100  # past original_max_position_embeddings, where llama3 scaling differs most
    ids = torch.randint(0, loaded.config.vocab_size, (length,), generator=torch.Generator().manual_seed(1))
    blocks = [5, 1, 6, 0, 3, 2, 4]
    k = torch.zeros(2, 8, 16, 2, 16)
    v = torch.zeros_like(k)
    batch = StepBatch(
        is_prefill=True, slot_mapping=torch.tensor([blocks[p // 16] * 16 + p % 16 for p in range(length)]),
        block_tables=torch.tensor([blocks], dtype=torch.int32), context_lens=torch.tensor([length], dtype=torch.int32),
        cu_seqlens_q=torch.tensor([0, length], dtype=torch.int32), logits_indices=torch.tensor([0, 63, length - 1]),
        max_seqlen_q=length, max_context_len=length,
    )
    logits = loaded.model(ids, torch.arange(length), batch, k, v)
    with torch.inference_mode():
        expected = reference(ids[None]).logits[0, [0, 63, length - 1]]
    assert (logits - expected).abs().max().item() < 1e-4


def test_folder_tokenizer_and_template_match_gguf(tmp_path, hf_tokenizer, smollm2):
    save_tiny_llama(tmp_path, hf_tokenizer, "default", tied=True)
    loaded = load_model(tmp_path, progress=False)
    text = "<|im_start|>user\nCafé ✓ 2024 🙂<|im_end|>"
    assert loaded.tokenizer.encode(text) == smollm2.tokenizer.encode(text)
    assert loaded.tokenizer.eos_id == smollm2.tokenizer.eos_id
    assert loaded.tokenizer.stop_ids == smollm2.tokenizer.stop_ids
    messages = [{"role": "user", "content": "hi"}]
    assert loaded.chat_template.render(messages) == smollm2.chat_template.render(messages)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "llama"
    assert loaded.sampling_defaults == SamplingDefaults()  # no sampling in its generation_config.json


def test_folder_sampling_defaults_come_from_generation_config(tmp_path, hf_tokenizer):
    save_tiny_llama(tmp_path, hf_tokenizer, "default", tied=True)
    path = tmp_path / "generation_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "temperature": 0.6, "top_p": 0.95, "top_k": 20}))
    defaults = load_model(tmp_path, progress=False).sampling_defaults
    assert (defaults.temperature, defaults.top_p, defaults.top_k, defaults.source) == (0.6, 0.95, 20,
                                                                                        "generation_config.json")
