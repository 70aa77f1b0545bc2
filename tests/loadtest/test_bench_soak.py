"""`semgate bench soak`: a short run in the suite, the long one behind the `soak` marker.

Both start the real gateway (cache on), the echo upstream and the hostile one as processes, inject
upstream faults, send some invalid requests on purpose and, in the second half, a hostile share;
every failure must be put down to the upstream or the client, none to the gateway.
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
    assert result["gateway_faults"] == 0, (result["phases"], result["hostile"])
    for phase in result["phases"].values():
        assert phase["errors"]["gateway"] == {}, phase["errors"]
        assert phase["requests"] == phase["ok"] + sum(sum(c.values()) for c in phase["errors"].values())
        lat = phase["latency_ms"]
        assert 0 < lat["p50_all"] <= lat["p99_all"]  # well-behaved latency, with and without the hostile share
    both = [sum(p["errors"][cause].values()) for p in result["phases"].values() for cause in ("upstream", "client")]
    assert result["faults_injected"] >= 1 and sum(both) >= 1
    cache = result["phases"]["calm"]["cache"]
    assert cache.get("hit", 0) >= 1 and cache.get("miss", 0) >= 1
    mem = result["rss_mib"]
    assert mem["start"] > 0 and mem["after_warmup"] > 0 and mem["end"] > 0
    assert set(result["event_loop_stall"]) == {"warmup", "calm", "hostile"}
    assert all(s["wakeups"] > 0 for s in result["event_loop_stall"].values())  # the probe measured every phase
    assert Path(result["plot"]).stat().st_size > 0


def test_a_short_soak_with_a_hostile_share_has_no_gateway_errors_and_reports_memory(tmp_path, capsys):
    code, result = soak(tmp_path, capsys, "--duration", "16", "--warmup", "3", "--concurrency", "16",
                        "--hostile-concurrency", "7", "--bait-chars", "2000", "--fault-every", "3",
                        "--bad-share", "0.05", "--quota", "200")
    assert code == 0, (result["hostile"]["gateway_faults"], [p["errors"]["gateway"] for p in result["phases"].values()])
    assert_every_failure_explained(result)
    hostile = result["hostile"]
    assert sum(hostile["sent"].values()) >= 7 and hostile["as_expected"] == hostile["sent"]
    assert hostile["upstream"]["requests"] >= 1 and hostile["upstream"]["answered"] == 0
    assert result["setup"]["concurrency"] == 16


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
