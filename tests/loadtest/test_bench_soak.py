"""`semgate bench soak`: a short run in the suite, the long one behind the `soak` marker.

Both start the real gateway (cache on) and the echo upstream as processes, inject upstream
faults and send some invalid requests on purpose; every failure must be put down to the
upstream or the client, none to the gateway.
"""

import json
from pathlib import Path

import pytest

from loadtest.__main__ import main
from loadtest.soak import MixedQuestions, classify


def soak(tmp_path: Path, capsys, *flags: str) -> tuple[int, dict]:
    code = main(["bench", "soak", "--json", "--no-progress", "--out", str(tmp_path), *flags])
    return code, json.loads(capsys.readouterr().out)


def assert_every_failure_explained(result: dict) -> None:
    assert result["errors"]["gateway"] == {}, result["errors"]
    assert result["requests"] == result["ok"] + sum(sum(c.values()) for c in result["errors"].values())
    assert result["faults_injected"] >= 1 and sum(result["errors"]["upstream"].values()) >= 1
    assert sum(result["errors"]["client"].values()) >= 1
    assert result["cache"].get("hit", 0) >= 1 and result["cache"].get("miss", 0) >= 1
    lat = result["latency_ms"]
    assert 0 < lat["p50_all"] <= lat["p99_all"]
    assert result["rss_mib"]["start"] > 0 and result["rss_mib"]["end"] > 0
    assert Path(result["plot"]).stat().st_size > 0


def test_a_short_soak_has_no_gateway_errors_and_reports_memory(tmp_path, capsys):
    code, result = soak(tmp_path, capsys, "--duration", "10", "--warmup", "4", "--concurrency", "64",
                        "--fault-every", "3", "--bad-share", "0.05", "--quota", "200")
    assert code == 0
    assert_every_failure_explained(result)
    assert result["setup"]["concurrency"] == 64


@pytest.mark.soak
def test_a_long_soak_has_no_gateway_errors_and_flat_memory(tmp_path, capsys):
    code, result = soak(tmp_path, capsys, "--duration", "240", "--warmup", "60", "--concurrency", "128")
    assert code == 0
    assert_every_failure_explained(result)
    # The cache is at its quota after warm-up: from then on, memory may wobble but not climb.
    assert result["rss_mib"]["growth_pct"] < 10, result["rss_mib"]


def test_failures_are_put_down_to_their_cause():
    assert classify(500, b'{"error": {"message": "injected upstream fault 500", "code": null}}')[0] == "upstream"
    assert classify(503, b'{"error": {"message": "x", "code": "upstream_circuit_open"}}') == (
        "upstream", "http_503:upstream_circuit_open")
    assert classify(400, b'{"error": {"message": "bad", "code": "invalid_type"}}')[0] == "client"
    assert classify(500, b'{"error": {"message": "Internal Server Error", "code": null}}')[0] == "gateway"
    assert classify(502, b"<html>proxy error</html>")[0] == "gateway"
    assert classify(429, b'{"error": {"message": "slow down", "code": "rate_limited"}}')[0] == "gateway"


def test_the_mix_repeats_paraphrases_and_asks_fresh_questions_in_its_shares():
    mix = MixedQuestions(repeat=0.5, paraphrase=0.2, seed=1)
    asked = [mix.next() for _ in range(2000)]
    fresh = mix.fresh / len(asked)
    assert 0.25 < fresh < 0.35
    assert len(set(asked)) < len(asked) * 0.6  # exact repeats
    assert any(q.startswith(("Could you tell me", "Explain the")) for q in asked)
