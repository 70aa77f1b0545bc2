"""`make install` (what `make up` runs first) says what it is doing, step by step, and keeps pip's own
progress, without the warning per package that pip prints for a file:// index lacking it."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Stands in for pip only to see what the recipe passes through: what it prints on each stream.
FAKE_PIP = """#!/bin/sh
echo "Collecting $*"
echo "WARNING: Location 'file:///opt/pypi/simple/some-package/' is ignored: it is neither a file nor a directory." >&2
echo "WARNING: a warning worth reading" >&2
"""


def test_make_install_shows_each_step_and_pips_progress_without_location_noise(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\n")  # an existing venv: the recipe does not make one
    fake = tmp_path / "pip"
    fake.write_text(FAKE_PIP)
    for script in (venv / "bin" / "python", fake):
        script.chmod(0o755)
    run = subprocess.run(["make", "-C", str(ROOT), "install", f"VENV={venv}", f"PIP={fake}"], capture_output=True,
                         text=True, timeout=60, env={**os.environ, "MAKEFLAGS": ""})
    assert run.returncode == 0, run.stderr
    steps = [line for line in run.stdout.splitlines() if line.startswith("semgate install")]
    assert [s.split(":")[0] for s in steps] == [f"semgate install [{i}/4]" for i in range(1, 5)] + ["semgate install"]
    assert "Collecting install -e .[test]" in run.stdout  # pip's own progress is shown, not --quiet
    assert "a warning worth reading" in run.stderr and "is ignored" not in run.stderr
    assert (venv / ".installed").exists()
