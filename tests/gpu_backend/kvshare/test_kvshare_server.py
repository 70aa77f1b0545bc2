"""KVShare through the OpenAI server: marked chunks are reused across requests and reported in
/metrics; a bad mark is a 400 in the OpenAI error shape."""

import httpx
import pytest
from loopback import ServerThread

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import AsyncEngine, EngineConfig, LLMEngine
from gpu_backend.server import BackendService, build_app
from kvshare_support import messages

MODEL = "smollm2-135m"


@pytest.fixture(scope="module")
def base_url(smollm2):
    config = EngineConfig(kv_budget_bytes=64 << 20, kvshare_recompute_ratio=0.15)
    engine = AsyncEngine(build_from_loaded(smollm2, config))
    service = BackendService(engine, smollm2.tokenizer, smollm2.chat_template, (MODEL,))
    with ServerThread(build_app(service)) as server:
        yield server.url


def _metric(base_url: str, name: str) -> float:
    for line in httpx.get(f"{base_url}/metrics").text.splitlines():
        if line.startswith(f"semgate_backend_{name}{{"):
            return float(line.rsplit(" ", 1)[1])
    raise KeyError(name)


def _ask(base_url, order, question, chunks=None):
    msgs, spans = messages(order, question)
    mark = {"ids": [str(i) for i in order], "messages": [1, 1 + 2 * len(order)],
            "chunks": [list(s) for s in spans] if chunks is None else chunks}
    return httpx.post(f"{base_url}/v1/chat/completions", timeout=120,
                      json={"model": MODEL, "messages": msgs, "max_tokens": 3, "temperature": 0, "semgate_examples": mark})


def test_marked_chunks_are_reused_in_another_order_and_reported(base_url):
    assert _metric(base_url, "kvshare_recompute_ratio") == 0.15
    assert _ask(base_url, [0, 1], "wake me at six").status_code == 200
    assert _metric(base_url, "kvshare_chunks_saved_total") == 2
    answer = _ask(base_url, [1, 0], "play jazz")
    assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["content"]
    assert _metric(base_url, "kvshare_prompts_blended_total") == 1
    assert _metric(base_url, "kvshare_tokens_reused_total") > 20
    assert _metric(base_url, "kvshare_chunk_blocks") >= 2


def test_a_malformed_mark_is_a_400(base_url):
    response = _ask(base_url, [0], "hi", chunks=[[3, 1]])
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "semgate_examples.chunks"
