"""The backend benchmark's workload and report pieces (the benchmark itself runs models for minutes)."""

import argparse
import json

import pytest

from gpu_backend.model import load_model
from loadtest.benches import _structured_output, backend


@pytest.fixture(scope="module")
def smollm2_loaded():
    return load_model("smollm2-135m", progress=False)


def test_sharegpt_prompts_are_real_first_questions():
    questions, source = backend.sharegpt_questions(12)
    assert len(questions) == 12
    assert len(set(questions)) == 12
    assert all(20 <= len(q) <= 2000 for q in questions)
    assert "ShareGPT" in source


def test_percentiles_and_summary():
    ttfts = [0.1 * i for i in range(1, 101)]
    figures = backend.summary(tokens=640, wall=2.0, ttfts=ttfts, cpu=1.6)
    assert figures["tokens_per_s"] == 320
    assert figures["tokens_per_cpu_s"] == 400
    assert abs(figures["ttft_p50_s"] - 5.0) < 0.11
    assert abs(figures["ttft_p99_s"] - 9.9) < 0.11


def test_plot_and_flags(tmp_path):
    rows = [{"concurrency": c, "requests": c, "engine": {"tokens_per_s": 10.0 * c}, "hf": {"tokens_per_s": 5.0 * c}}
            for c in (1, 8, 32)]
    path = backend.plot({"throughput": rows, "workload": {"max_tokens": 64}, "llama_cpp": None}, tmp_path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    parser = argparse.ArgumentParser()
    backend.add_arguments(parser)
    args = parser.parse_args(["--json", "--quick", "--concurrency", "1,4"])
    assert args.json and args.quick and args.concurrency == "1,4"


def test_structured_output_row_compiles_new_schemas_and_compares_in_one_run(smollm2_loaded):
    variants = [_structured_output.schema_variant(i) for i in range(3)]
    assert len({json.dumps(v) for v in variants}) == 3  # each one a compile, not a cache hit
    assert all(len(v["properties"]) == len(_structured_output.SCHEMA["properties"]) for v in variants)
    calls = []

    def run_engine(loaded, config, prompts, concurrency, params, desc):
        calls.append((concurrency, params.grammar is not None))
        return {"tokens_per_s": 90.0 if params.grammar is not None else 100.0, "output_tokens": 10}

    result = _structured_output.run_structured_output(smollm2_loaded, None, [[1, 2]] * 4, [1, 32], {1: 4, 32: 4},
                                                      backend.SamplingParams(max_tokens=8), run_engine)
    assert calls == [(1, False), (1, True), (32, False), (32, True)]
    assert [row["throughput_ratio"] for row in result["rows"]] == [0.9, 0.9]
    assert result["schemas"] == 20 and result["compile_p50_ms"] > 0  # how long: the bench prints it


def test_llama_server_and_engine_runs_alternate():
    from loadtest.benches import _llama_server

    assert _llama_server._alternating(["q4_1", "q8_0", "f16"], ["fp32", "bf16"]) == [
        ("q4_1", "fp32"), ("q8_0", "bf16"), ("f16", None)]


def test_weight_formats_flag_refuses_unknown_names():
    assert backend.weight_formats("fp32,bf16") == ["fp32", "bf16"]
    with pytest.raises(SystemExit, match="int4"):
        backend.weight_formats("fp32,int4")
