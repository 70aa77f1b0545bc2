"""report.json and a markdown summary, ready to paste into docs/benchmarks.md."""

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Protocol

from gpu_backend.gpu_check.bench_runs import BenchRun, phase_split_partition
from gpu_backend.gpu_check.kernel_sweep import KernelResult
from gpu_backend.gpu_check.logits_check import LogitsResult


class Checked(Protocol):
    """A kernel, logits or bench result."""

    @property
    def passed(self) -> bool: ...


def write(
    out: Path, header: dict, kernels: list[KernelResult], logits: list[LogitsResult], benches: list[BenchRun]
) -> dict:
    checks: list[Checked] = [*kernels, *logits, *benches]
    report = {
        **header,
        "passed": all(r.passed for r in checks),
        "phase_split_partition": phase_split_partition(benches),
        "kernels": [{**asdict(r), "passed": r.passed} for r in kernels],
        "logits": [{**asdict(r), "passed": r.passed} for r in logits],
        "benches": [{**asdict(r), "passed": r.passed} for r in benches],
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(_finite(report), indent=2))
    (out / "summary.md").write_text(summary(report))
    return report


def summary(report: dict) -> str:
    lines = [
        f"### gpu-check on {report['device']} ({'quick' if report['quick'] else 'full'}), {report['started']}",
        "",
        (
            f"torch {report['torch']}, triton {report['triton']}, {report['seconds']:.0f} s in all; "
            f"{'all checks passed' if report['passed'] else 'SOME CHECKS FAILED'}; "
            f"the phase split ran on: {report['phase_split_partition']}."
        ),
        "",
        "| kernel | dtype | shape | max relative error | bound | |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["kernels"]:
        lines.append(
            f"| {r['kernel']} | {r['dtype']} | {r['shape']} | {_number(r['max_error'])} | "
            f"{r['tolerance']:g} | {'ok' if r['passed'] else 'FAIL ' + r['error']} |"
        )
    lines += [
        "",
        "| logits | model | dtype | max abs diff | top-1 agreement | bound | |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["logits"]:
        lines.append(
            f"| {r['check']} | {r['model']} | {r['dtype']} | {_number(r['max_abs_diff'])} | "
            f"{r['top1_agreement']:.2f} | {r['tolerance']:g} | "
            f"{'ok' if r['passed'] else 'FAIL ' + r['error']} |"
        )
    lines += ["", "| bench | command | seconds | |", "|---|---|---|---|"]
    for r in report["benches"]:
        lines.append(
            f"| {r['name']} | `{' '.join(r['command'])}` | {r['seconds']:.0f} | "
            f"{'ok' if r['passed'] else 'FAIL (exit ' + str(r['returncode']) + ')'} |"
        )
    return "\n".join(lines) + "\n"


def _number(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.2e}"


def _finite(value: object) -> object:
    """JSON has no infinity: a check that could not run reports null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
