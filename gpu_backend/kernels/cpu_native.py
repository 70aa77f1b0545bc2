"""Native CPU kernels: C sources beside this file, compiled once per machine and loaded with ctypes.

A kernel is built with the system C compiler (CC, else cc) for this CPU (-march=native) and
OpenMP, into SEMGATE_KERNEL_CACHE (else $XDG_CACHE_HOME/semgate/kernels, else
~/.cache/semgate/kernels). The file name carries a hash of the source, the flags, the
compiler's version and the CPU's model and flags, so a changed source or another machine
builds anew; the file is built under a temporary name and moved into place, so concurrent
processes see none or a whole one. torch is imported first: its libgomp.so.1 is then the one
OpenMP runtime of the process, and the kernels share its threads. Without a compiler, or when
a build fails, `load` returns None (logged once) and the caller keeps the torch path.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import torch  # noqa: F401 - loads torch's OpenMP runtime before any kernel links to libgomp.so.1

log = logging.getLogger(__name__)
SOURCES = Path(__file__).parent
FLAGS = ("-O3", "-march=native", "-fopenmp", "-fPIC", "-shared")
BUILD_TIMEOUT_S = 120


def cache_dir() -> Path:
    if os.environ.get("SEMGATE_KERNEL_CACHE"):
        return Path(os.environ["SEMGATE_KERNEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "semgate" / "kernels"


@cache
def load(name: str) -> ctypes.CDLL | None:
    """The compiled `name`.c of this folder, built first if needed; None when it cannot be built."""
    compiler = os.environ.get("CC", "cc")
    source = (SOURCES / f"{name}.c").read_bytes()
    try:
        path = cache_dir() / f"{name}-{_build_key(compiler, source)}.so"
        if not path.exists():
            _build(compiler, SOURCES / f"{name}.c", path)
        return ctypes.CDLL(str(path))
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("native CPU kernel %s is not available (%s): the torch path runs instead", name, exc)
        return None


def _build(compiler: str, source: Path, path: Path) -> None:
    log.info("building native CPU kernel %s (once per machine)", path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        staged = Path(tmp) / path.name
        # check=False: the compiler's own message goes into the error below
        result = subprocess.run(
            [compiler, *FLAGS, "-o", str(staged), str(source), "-lm"],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            raise OSError(f"{compiler} failed: {result.stderr.strip()[-2000:]}")
        os.replace(staged, path)


def _build_key(compiler: str, source: bytes) -> str:
    # check=False: a compiler without --version is keyed by its name
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=30, check=False).stdout
    digest = hashlib.sha256(source)
    compiler_identity = version.splitlines()[0] if version else compiler
    for part in (" ".join(FLAGS), compiler_identity, platform.machine(), _cpu_identity()):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:16]


def _cpu_identity() -> str:
    """The model name and feature flags of the first CPU (what -march=native compiles for)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor()
    wanted = [line for line in lines if line.startswith(("model name", "flags"))]
    return "\n".join(wanted[:2])
