"""gpu-check's report says which partition the SLO bench's phase split ran on, or why none."""

from gpu_backend.gpu_check.bench_runs import BenchRun, phase_split_partition


def slo_run(rates: list[dict]) -> BenchRun:
    return BenchRun("slo", ["semgate", "bench", "slo"], 1.0, 0, {"rates": rates})


def test_the_report_names_the_partition_the_phase_split_ran_on():
    row = {"rate_rps": 4.0, "fcfs": {}, "phase_split": {"split": {"partition": "green_context"}}}
    assert phase_split_partition([slo_run([row, row])]) == "green_context"


def test_the_report_says_when_the_phase_split_did_not_run():
    dropped = phase_split_partition([slo_run([{"rate_rps": 4.0, "fcfs": {}, "goodput": {}}])])
    assert dropped.startswith("not run") and "dropped" in dropped
    failed = BenchRun("slo", ["semgate", "bench", "slo"], 1.0, 1, {})
    assert phase_split_partition([failed]).startswith("not run (no SLO bench figures)")
