"""The backend benchmark's workload and report pieces (the benchmark itself runs models for minutes)."""

import argparse

from loadtest.benches import backend


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
