"""Short real runs (about a second each) against the echo upstream and a gateway on loopback."""

import itertools
import json

import httpx

from loadtest.__main__ import main
from loadtest.records import read_records
from loadtest.runner import RunConfig, run_load_sync
from loadtest.target import served_model
from loadtest.workloads import WorkloadOptions
from loadtest.workloads.clinc_mix import ClincCategoryMix
from loadtest.workloads.spec import SLO, RequestSpec


def specs(stream=True, max_tokens=64, slo=None):
    return ClincCategoryMix(WorkloadOptions(model="echo-1", seed=1, max_tokens=max_tokens, stream=stream, slo=slo)).requests()


def control(echo, **settings):
    httpx.post(f"{echo.url}/_echo/control", json=settings).raise_for_status()


def test_streaming_open_loop_measures_every_token(echo):
    config = RunConfig(target=echo.url, rate=40.0, duration_s=1.0, max_requests=25, progress=False)
    records = run_load_sync(config, specs(max_tokens=5, slo=SLO(e2e_s=30.0))).records
    assert 1 <= len(records) <= 25 and [r.index for r in records] == list(range(len(records)))
    for r in records:
        words = ["Echo:", *r.question.split()][:5]
        assert r.ok and r.status == 200 and r.stream
        assert r.answer_preview == " ".join(words)[:120]
        assert r.completion_tokens == len(words) and len(r.token_gaps_s) == len(words) - 1
        assert 0 < r.ttft_s <= r.e2e_s and r.tpot_s is not None and r.slo_met
        assert r.finish_reason in {"stop", "length"} and r.cache is None
    assert echo.stats.requests == len(records)


def test_non_streaming_answers_count_as_one_arrival(echo):
    config = RunConfig(target=echo.url + "/v1", concurrency=2, duration_s=5.0, max_requests=6, progress=False)
    records = run_load_sync(config, specs(stream=False)).records
    assert len(records) == 6 and all(r.ok and not r.stream for r in records)
    assert all(r.ttft_s == r.e2e_s and r.tpot_s is None and r.token_gaps_s == [] for r in records)
    assert all(r.completion_tokens == len(r.question.split()) + 1 and r.prompt_tokens for r in records)


def test_closed_loop_sends_exactly_the_request_budget(echo):
    config = RunConfig(target=echo.url, concurrency=3, duration_s=30.0, max_requests=12, progress=False)
    result = run_load_sync(config, specs())
    assert len(result.records) == 12 and echo.stats.requests == 12


def test_failures_become_records_with_their_cause(echo):
    control(echo, fault="503", fault_count=2)
    config = RunConfig(target=echo.url, concurrency=1, duration_s=30.0, max_requests=4, progress=False)
    errors = [r.error for r in run_load_sync(config, specs()).records]
    assert errors == ["http_503", "http_503", None, None]

    control(echo, fault="cut", fault_count=1)
    record = run_load_sync(config, specs(max_tokens=64)).records[0]
    assert record.error in {"disconnected", "incomplete_stream"} and not record.slo_met


def test_a_stalled_target_cannot_hold_the_run_past_its_time_bound(echo):
    control(echo, fault="stall")
    config = RunConfig(target=echo.url, rate=5.0, duration_s=0.3, request_timeout_s=0.5, max_requests=3, progress=False)
    records = run_load_sync(config, specs()).records
    assert records and all(r.error in {"timeout", "run_deadline"} for r in records)


def test_the_runner_sends_what_the_workload_gives(echo):
    completion = RequestSpec(model="echo-1", max_tokens=3, stream=True, prompt="one two three four")
    config = RunConfig(target=echo.url, concurrency=1, duration_s=5.0, max_requests=2, progress=False)
    records = run_load_sync(config, itertools.repeat(completion)).records
    assert [r.answer_preview for r in records] == ["Echo: one two"] * 2
    assert echo.stats.by_path == {"/v1/completions": 2}


def test_cli_rate_sweep_writes_records_summary_and_plots(echo, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["loadtest", "--target", echo.url, "--workload", "clinc", "--rate", "20,40", "--duration", "0.7",
                 "--max-tokens", "8", "--slo-e2e-ms", "5000", "--out", str(out), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "rate sweep" in printed and "TTFT" in printed and "goodput" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "echo-1" and [r["name"] for r in summary["runs"]] == ["rate-20", "rate-40"]
    for run in summary["runs"]:
        assert run["summary"]["ok"] == run["summary"]["requests"] == len(read_records(out / f"records-{run['name']}.jsonl"))
        assert run["summary"]["errors"] == {}
    for png in ("latency_cdf.png", "goodput_vs_rate.png"):
        assert (out / png).read_bytes().startswith(b"\x89PNG")


def test_served_model_is_the_first_listed(echo):
    control(echo, models=["first", "second"])
    assert served_model(echo.url) == "first"


def test_a_run_through_the_gateway_reads_its_cache_headers(gateway, tmp_path, capsys):
    out = tmp_path / "gw"
    code = main(["loadtest", "--target", gateway + "/v1", "--workload", "qqp", "--concurrency", "4", "--max-requests", "40",
                 "--duration", "30", "--max-tokens", "16", "--out", str(out), "--json", "--no-progress"])
    assert code == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    records = read_records(out / "records-concurrency-4.jsonl")
    assert len(records) == 40 and all(r.ok for r in records)
    assert all(r.cache in {"hit", "miss", "bypass", "store-skipped"} for r in records)
    summary = run["summary"]
    assert summary["hit_rate"] is not None and sum(summary["cache_outcomes"].values()) == 40
    hits = summary["cache_outcomes"].get("hit", 0)
    assert summary["false_hits"]["judged"] + summary["false_hits"]["unattributed"] == hits
    assert (out / "hit_rate_over_time-concurrency-4.png").exists()
