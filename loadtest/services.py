"""Servers a benchmark starts for itself: each a subprocess on a free loopback port, stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from gateway.cache.onnx_export import model_cache_dir


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen | None, timeout_s: float) -> None:
    """Poll GET /healthz until 200; fail early if the process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with code {process.returncode} while starting")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url} did not become healthy within {timeout_s:.0f} s")


class Services:
    """A context manager owning the subprocesses it starts; leaving it stops them, newest first."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir.absolute()
        self.processes: list[subprocess.Popen] = []
        self.by_name: dict[str, subprocess.Popen] = {}

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            stop(process)
        self.processes.clear()
        self.by_name.clear()

    def start(self, name: str, args: list[str], port: int, ready_timeout_s: float, cwd: Path | None = None) -> str:
        """Run `python -m ARGS`, wait for its /healthz, return its base URL; output goes to LOG_DIR/NAME.log.

        Paths in ARGS must be absolute when `cwd` is given: the child resolves relative ones there."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # The ONNX export cache defaults to var/models of the working directory: a child started elsewhere
        # shares the user's instead of exporting the model again into its own folder.
        env = {**os.environ, "SEMGATE_MODEL_CACHE": str(model_cache_dir().absolute())}
        with (self.log_dir / f"{name}.log").open("wb") as log:
            # Own session: a Ctrl-C on the benchmark reaches us once and we stop the children in order.
            # stdin is a pipe we hold: a child started with --exit-with-parent sees EOF there if we die.
            process = subprocess.Popen([sys.executable, "-m", *args], stdin=subprocess.PIPE, stdout=log,
                                       stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True)
        self.processes.append(process)
        self.by_name[name] = process
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(url, process, ready_timeout_s)
        except RuntimeError as error:
            raise RuntimeError(f"{error}; see {self.log_dir / f'{name}.log'}") from None
        return url


def stop(process: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM the child's whole process group (it leads its own session), SIGKILL after the grace period."""
    if process.poll() is None:
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
    if process.stdin is not None:
        process.stdin.close()


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
