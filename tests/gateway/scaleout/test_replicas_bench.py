"""`semgate bench replicas`: its change-stream measurement against a real redis-server, and (slow) a whole run."""

import asyncio
import json
import subprocess
import sys

import pytest

from loadtest.benches.replicas import question_pairs, stream_propagation
from loadtest.redis_server import redis_server_path


def test_every_question_has_a_distinct_paraphrase():
    pairs = question_pairs()
    assert len(pairs) == len({q for q, _ in pairs}) >= 200
    assert all(q.lower().rstrip("?") != p.lower() for q, p in pairs)  # never an exact repeat


def test_the_change_stream_delay_is_measured_for_every_put(redis_server):
    result = asyncio.run(stream_propagation(redis_server.url, samples=20))
    assert result["count"] == 20 and 0 < result["p50_ms"] <= result["p99_ms"]


@pytest.mark.slow
@pytest.mark.skipif(redis_server_path() is None, reason="redis-server is not installed")
def test_a_small_run_prints_every_figure_as_json(tmp_path):
    out = subprocess.run([sys.executable, "-m", "loadtest", "bench", "replicas", "--json", "--questions", "10",
                          "--propagation-samples", "10", "--duration", "2", "--concurrency", "4",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=900, check=True).stdout
    result = json.loads(out)
    assert result["hit_latency"]["redis"]["exact_hit"]["count"] == 10
    propagation = result["propagation"]
    assert propagation["not_propagated"] == 0
    assert propagation["count"] + propagation["paraphrase_not_a_hit_on_a"] == 10
    assert result["throughput"]["2 replicas"]["rps"] > 0 and "throughput_2_over_1" in result["ratios"]
