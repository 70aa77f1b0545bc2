"""semgate gpu-check [--quick]: see gpu_backend/gpu_check/__init__.py."""

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import torch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
if DEVICE == "cpu":
    # Before anything imports triton: Triton decides at import whether its library is interpreted.
    os.environ["TRITON_INTERPRET"] = "1"

from gpu_backend import gpu_check  # noqa: E402
from gpu_backend.gpu_check import bench_runs, kernel_sweep, logits_check, report  # noqa: E402

_Check = TypeVar("_Check", bound=report.Checked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="semgate gpu-check", description=gpu_check.__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer shapes and dtypes, smaller benches")
    parser.add_argument("--skip-benches", action="store_true", help="kernels and logits only")
    parser.add_argument("--bench-timeout", type=float, default=240.0, help="seconds each bench may take")
    parser.add_argument("--out", type=Path, default=Path("artifacts/gpu-check"))
    args = parser.parse_args(argv)
    started, clock = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), time.monotonic()
    device_name = torch.cuda.get_device_name(0) if DEVICE == "cuda" else f"CPU ({_cpu_model()}), Triton interpreted"
    print(f"gpu-check on {device_name}", file=sys.stderr, flush=True)
    import triton

    os.environ["SEMGATE_KERNELS"] = "triton"  # the kernel sweep runs Triton on CPU tensors too
    kernels = _step("kernels", lambda: kernel_sweep.sweep(DEVICE, args.quick))
    os.environ.pop("SEMGATE_KERNELS")
    logits = _step("logits", lambda: logits_check.check_all(DEVICE, args.quick))
    benches = (
        []
        if args.skip_benches
        else _step("benches", lambda: bench_runs.run_benches(DEVICE, args.quick, args.out, args.bench_timeout))
    )
    header = {
        "device": device_name,
        "device_kind": DEVICE,
        "quick": args.quick,
        "started": started,
        "torch": torch.__version__,
        "triton": triton.__version__,
        "seconds": time.monotonic() - clock,
    }
    written = report.write(args.out, header, kernels, logits, benches)
    print(report.summary(written))
    print(f"report: {args.out / 'report.json'}, summary: {args.out / 'summary.md'}", file=sys.stderr)
    return 0 if written["passed"] else 1


def _step(name: str, run: Callable[[], list[_Check]]) -> list[_Check]:
    clock = time.monotonic()
    results = run()
    failed = sum(not r.passed for r in results)
    print(
        f"  {name}: {len(results) - failed} of {len(results)} passed ({time.monotonic() - clock:.0f} s)",
        file=sys.stderr,
        flush=True,
    )
    return results


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


if __name__ == "__main__":
    sys.exit(main())
