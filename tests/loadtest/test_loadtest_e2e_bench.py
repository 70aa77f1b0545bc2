"""`semgate bench e2e`: its gateway config, its ratios, and a short whole run with the echo upstream as backend."""

import json

import pytest
import yaml

from gateway.config import parse_config
from loadtest.__main__ import main
from loadtest.benches.e2e import _Side, compare, format_comparison, gateway_config_text, round_order
from loadtest.metrics import summarize
from loadtest.records import RequestRecord
from loadtest.runner import RunResult


def test_gateway_config_points_at_the_backend_and_keeps_the_users_settings():
    text = gateway_config_text({"listen": "0.0.0.0:1", "limits": {"max_messages": 7}}, 4321, "http://127.0.0.1:8001/", "smol")
    config = parse_config(text, "e2e.yaml")
    assert (config.host, config.port, config.limits.max_messages) == ("127.0.0.1", 4321, 7)
    assert [(u.base_url, u.models) for u in config.upstreams] == [("http://127.0.0.1:8001/v1", ("smol",))]
    assert yaml.safe_load(text)["backend"] == {"enabled": False}


def test_no_cache_turns_the_gateway_into_a_pure_proxy():
    text = gateway_config_text({"cache": {"top_k": 4}}, 4321, "http://127.0.0.1:8001", "smol", cache=False)
    config = parse_config(text, "e2e.yaml")
    assert not config.cache.enabled and config.cache.top_k == 4


def records(latencies, cache=None, start_step=0.5):
    return [RequestRecord(index=i, scheduled_s=i * start_step, start_s=i * start_step, endpoint="/v1/chat/completions",
                          stream=True, question="q", e2e_s=e, ttft_s=e / 2, cache=cache if i % 2 else "miss" if cache else None,
                          group="g", answer_digest="a", completion_tokens=10, prompt_tokens=4, slo_met=True)
            for i, e in enumerate(latencies)]


def test_ratios_say_how_much_the_gateway_wins():
    direct = summarize(records([2.0, 4.0, 6.0, 8.0]))
    gateway = summarize(records([1.0, 1.0, 1.0, 1.0], cache="hit"))
    c = compare(direct, gateway)
    assert c["mean_latency_speedup"] == 5.0
    assert c["throughput_ratio"] == pytest.approx(direct.span_s / gateway.span_s)  # 9.5 s vs 2.5 s for 4 requests
    assert (c["hit_rate"], c["false_hit_rate"], c["upstream_tokens_saved"]) == (0.5, 0.0, 28)
    assert c["upstream_tokens_saved_fraction"] == 28 / 56
    text = format_comparison({"setup": {"workload": "clinc", "rate_rps": 3.0, "rate_source": "given", "duration_s": 10,
                                        "model": "m", "machine": "here"},
                              "direct": direct.to_dict(), "gateway": gateway.to_dict(), "comparison": c})
    assert "5.00x (gateway faster)" in text and "50.0%" in text and "0/2 hits judged" in text


def test_rounds_alternate_which_side_goes_first():
    assert round_order(4) == [("direct", "gateway"), ("gateway", "direct"), ("direct", "gateway"), ("gateway", "direct")]
    assert round_order(1) == [("direct", "gateway")]


def test_a_sides_rounds_join_into_one_timeline_without_the_other_sides_time():
    side = _Side()
    # Two rounds of 4 requests, each round's clock from 0: 0.5 s apart, 1 s each, so each round spans 2.5 s.
    for cpu in (1.0, 3.0):
        side.add(RunResult(config=None, records=records([1.0] * 4), wall_s=2.5), {"gateway": cpu, "backend": None})
    assert [r.index for r in side.records] == list(range(8))
    assert side.records[4].start_s == 2.5 and side.elapsed_s == 5.0
    assert summarize(side.records).throughput_rps == pytest.approx(8 / 5.0)
    assert side.cpu_ms_per_request() == {"backend_cpu_ms_per_request": None, "gateway_cpu_ms_per_request": 500.0}


def test_whole_bench_against_the_echo_upstream_as_backend(echo, tmp_path, capsys):
    code = main(["bench", "e2e", "--backend-url", echo.url, "--probe-duration", "0.5", "--probe-concurrency", "2",
                 "--overload", "0.25", "--duration", "2", "--rounds", "2", "--warmup", "0.5", "--max-tokens", "8", "--out", str(tmp_path),
                 "--json", "--no-progress", "--ready-timeout", "60"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    setup = result["setup"]
    assert setup["model"] == "echo-1" and setup["rate_source"] == "0.25 x probed direct capacity"
    assert setup["rate_rps"] == pytest.approx(0.25 * setup["direct_capacity_rps"])
    direct, gateway = result["direct"], result["gateway"]
    # Same seed, same arrivals: both paths got the same requests.
    assert direct["requests"] == gateway["requests"] > 0
    assert direct["hit_rate"] is None and gateway["hit_rate"] is not None
    assert result["comparison"]["throughput_ratio"] > 0
    # The gateway was started by the bench, the backend was not: only the gateway's CPU is read, on both
    # sides (it stays up, idle, during the direct rounds), and it works only when traffic goes through it.
    cpu = setup["cpu"]
    assert cpu["direct"]["backend_cpu_ms_per_request"] is None is cpu["gateway"]["backend_cpu_ms_per_request"]
    assert 0 <= cpu["direct"]["gateway_cpu_ms_per_request"] < cpu["gateway"]["gateway_cpu_ms_per_request"]
    assert setup["rounds"] == 2
    for name in ("records-direct.jsonl", "records-gateway.jsonl", "latency_cdf.png", "hit_rate_over_time.png", "summary.json"):
        assert (tmp_path / name).exists()
