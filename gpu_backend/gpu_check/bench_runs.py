"""The backend's benches, run as a user runs them, their JSON kept for the report.

On CUDA: `semgate bench backend` (engine vs HF generate at 1/8/32/128 concurrent, and the
shared-prefix TTFT) and `semgate bench slo` (FCFS, goodput and the phase split). On a CPU the same
commands at their smoke size (SEMGATE_SMOKE=1): the figures measure nothing there, the run proves
the commands work, so that on a GPU only the figures are new.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class BenchRun:
    name: str
    command: list[str]
    seconds: float
    returncode: int
    figures: dict = field(default_factory=dict)
    output_tail: str = ""

    @property
    def passed(self) -> bool:
        return self.returncode == 0 and bool(self.figures)


def bench_commands(device: str, quick: bool, out: Path) -> dict[str, list[str]]:
    gpu = [] if device == "cpu" else ["--device", device]
    backend = ["backend", "--json", "--out", str(out / "backend"), *gpu]
    if device != "cpu":
        backend += ["--concurrency", "1,32" if quick else "1,8,32,128", "--waves", "1" if quick else "2"]
    slo = ["slo", "--json", "--out", str(out / "slo"), *gpu]
    if device != "cpu" and quick:
        slo += ["--rates", "16", "--requests", "96"]
    return {"backend": backend, "slo": slo}


def run_benches(device: str, quick: bool, out: Path, timeout_s: float) -> list[BenchRun]:
    env = {**os.environ, **({"SEMGATE_SMOKE": "1"} if device == "cpu" else {})}
    runs = []
    for name, args in bench_commands(device, quick, out).items():
        command = [sys.executable, "-m", "loadtest", "bench", *args]
        started = time.monotonic()
        try:
            # check=False: a failed bench is a finding, reported with its exit status
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout_s, check=False)
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
        except subprocess.TimeoutExpired as timeout:
            stderr = _text(timeout.stderr) + f"\ntimed out after {timeout_s:g} s"
            code, stdout = -1, _text(timeout.stdout)
        runs.append(
            BenchRun(
                name,
                ["semgate", "bench", *args],
                round(time.monotonic() - started, 1),
                code,
                _json_of(stdout),
                (stdout + stderr)[-2000:],
            )
        )
    return runs


def _json_of(stdout: str) -> dict:
    """The bench's --json document: the output from its first line that opens a JSON object."""
    lines = stdout.splitlines()
    for start, line in enumerate(lines):
        if line.startswith("{"):
            try:
                return json.loads("\n".join(lines[start:]))
            except json.JSONDecodeError:
                continue
    return {}


def _text(value: bytes | str | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else (value or "")


def phase_split_partition(runs: list[BenchRun]) -> str:
    """The partition kind(s) the SLO bench's phase split ran on ("green_context", "mps",
    "threads"), or why it did not run."""
    slo = next((run for run in runs if run.name == "slo"), None)
    if slo is None or not slo.figures:
        return "not run (no SLO bench figures)"
    kinds = sorted(
        {row["phase_split"]["split"]["partition"] for row in slo.figures.get("rates", []) if "phase_split" in row}
    )
    return ", ".join(kinds) if kinds else "not run (the SLO bench dropped the phase split; see its output)"
