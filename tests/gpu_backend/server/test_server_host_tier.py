"""The prefix cache's host tier seen from a client: a conversation's next turn, sent after
other requests filled the KV pool, reports its history as cached tokens, and /metrics
counts the reuse and the copies."""

import httpx
import torch
from engine_support import TINY_CONFIG, tiny_engine
from backend_metrics import metric
from loopback import ServerThread

from gpu_backend.engine import AsyncEngine
from gpu_backend.kv import bytes_per_block
from gpu_backend.server import BackendService, build_app

BLOCK_BYTES = bytes_per_block(TINY_CONFIG.num_layers, TINY_CONFIG.num_kv_heads, TINY_CONFIG.head_dim, 16,
                              torch.float32)


def test_the_next_turn_of_a_conversation_comes_back_from_the_host_over_http(smollm2):
    engine = tiny_engine(smollm2.tokenizer, kv_budget_bytes=12 * BLOCK_BYTES, host_prefix_cache=True,
                         host_kv_budget_bytes=64 * BLOCK_BYTES)
    service = BackendService(AsyncEngine(engine), smollm2.tokenizer, smollm2.chat_template, ("tiny",))
    encode = smollm2.tokenizer.encode
    with ServerThread(build_app(service)) as server:
        def complete(prompt: list[int]) -> dict:
            body = {"model": "tiny", "prompt": prompt, "max_tokens": 16, "temperature": 0, "ignore_eos": True}
            response = httpx.post(f"{server.url}/v1/completions", json=body, timeout=60)
            assert response.status_code == 200
            return response.json()

        first_prompt = encode("A conversation about the history of lighthouses along rocky northern coasts, "
                              "told as a short story with names and dates.")
        first = complete(first_prompt)
        for i in range(6):  # other traffic fills the pool: the conversation's KV leaves the device
            complete(encode(f"Unrelated request {i} about subject {i * 31}, asking for a long and careful answer."))
        assert metric(server.url, "host_tier_blocks") > 0
        second_prompt = first_prompt + encode(first["choices"][0]["text"]) + encode("\nUser: and then?\nAssistant:")
        second = complete(second_prompt)
        cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
        assert cached >= len(first_prompt) // 16 * 16 > 0
        assert metric(server.url, "host_tier_hits_total") >= 1
        assert metric(server.url, "host_tier_tokens_reused_total") > 0
        assert metric(server.url, "host_tier_bytes_in_total") > 0 and metric(server.url, "host_tier_bytes_out_total") > 0
        assert metric(server.url, "prefill_tokens_total") > 0
