"""The backend server over a phase-split engine (real workers, real SmolLM2, loopback HTTP):
same greedy answer as the unified engine, and the split exported in /metrics."""

import httpx
import openai
import pytest
from loopback import ServerThread

from gpu_backend.__main__ import thread_pair
from gpu_backend.engine import AsyncEngine, EngineConfig
from gpu_backend.build import build_engine
from gpu_backend.server import BackendService, build_app

MODEL = "smollm2-135m"


@pytest.fixture(scope="module")
def base_url(smollm2):
    config = EngineConfig(kv_budget_bytes=64 << 20, phase_split=True, phase_split_threads=(1, 1), num_threads=2)
    engine = build_engine(smollm2.model, smollm2.tokenizer, config)
    service = BackendService(AsyncEngine(engine), smollm2.tokenizer, smollm2.chat_template, (MODEL,))
    try:
        with ServerThread(build_app(service)) as server:
            yield server.url
    finally:
        engine.close()


def test_chat_over_the_phase_split_answers_like_unified(base_url):
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused")
    reply = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=12, temperature=0)
    assert "Paris" in reply.choices[0].message.content


def test_metrics_export_the_split(base_url):
    lines = httpx.get(f"{base_url}/metrics").text.splitlines()
    values = {line.split("{")[0]: float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("semgate_")}
    assert values["semgate_backend_phase_split_prefill_threads"] == 1
    assert values["semgate_backend_phase_split_decode_threads"] == 1
    assert values["semgate_backend_phase_split_changes_total"] == 0


def test_thread_pair_flag_rejects_bad_values():
    assert thread_pair("2,1") == (2, 1)
    for bad in ("2", "a,b", "0,1"):
        with pytest.raises(Exception, match="thread counts"):
            thread_pair(bad)
