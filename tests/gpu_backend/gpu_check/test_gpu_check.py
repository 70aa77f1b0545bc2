"""`semgate gpu-check --quick` on a CPU: every kernel under Triton's interpreter against its
reference, the logits on both paths and against HF, and the benches at their smoke size; the
report says the device and which checks passed."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_gpu_check_quick_passes_on_the_cpu_and_writes_its_report(tmp_path):
    run = subprocess.run([sys.executable, "-m", "gateway", "gpu-check", "--quick", "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["passed"] and report["device_kind"] == "cpu" and "interpreted" in report["device"]
    kernels = {(r["kernel"], r["dtype"]) for r in report["kernels"]}
    for kernel in ("rms_norm", "fused_add_rms_norm", "apply_rope", "store_kv", "paged_decode_attention",
                   "paged_prefill_attention"):
        assert {(kernel, "float32"), (kernel, "float16")} <= kernels
    assert {r["check"] for r in report["logits"]} == {"triton vs torch", "torch path vs HF transformers"}
    assert {r["name"] for r in report["benches"]} == {"backend", "slo"}
    assert all(r["figures"] for r in report["benches"])
    assert report["phase_split_partition"] == "threads"  # the CPU's thread split; green contexts on a GPU
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("### gpu-check on CPU") and "all checks passed" in summary
