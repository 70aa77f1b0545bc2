"""Every `semgate ...` / `make ...` command in README.md and docs/*.md runs, as written, from the checkout root.

SEMGATE_SMOKE=1 makes each bench a small run of itself (loadtest/smoke.py): its paths, arguments and working
directory stay as the docs give them. Commands the docs mark as not runnable here are skipped with their reason
(tests/docs_commands.py). What ran and what was skipped is listed at the end of the pytest run (tests/conftest.py).
"""

import os
import resource
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docs_commands import RESULTS, ROOT, blocks, collect, commands_in

COMMANDS, STALE_MARKERS = collect()
TIMEOUT_S = 300


def _distinct(commands):
    """Each command once: the same words in two places (a comment aside) are one run."""
    seen = {}
    for c in commands:
        seen.setdefault(tuple(shlex.split(c.command, comments=True)), c)
    return list(seen.values())


@pytest.mark.parametrize("doc", _distinct(COMMANDS), ids=lambda c: f"{c.where} {c.command[:60]}")
def test_the_docs_command_runs_as_written(doc):
    if doc.skip:
        RESULTS.append((doc.command, f"skipped: {doc.skip}"))
        pytest.skip(doc.skip)
    env = {**os.environ, "SEMGATE_SMOKE": "1",
           # `semgate` is the console script beside this interpreter (the checkout's .venv under `make test`).
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    started, cpu_before = time.monotonic(), _children_cpu_s()
    # Its own session, so that a command still running at the limit goes with every server it started.
    process = subprocess.Popen(doc.command, shell=True, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        RESULTS.append((doc.command, f"FAILED: still running after {TIMEOUT_S} s"))
        raise
    seconds, cpu = time.monotonic() - started, _children_cpu_s() - cpu_before
    RESULTS.append((doc.command, f"ran: exit {process.returncode} in {seconds:.1f} s ({cpu:.1f} s CPU)"))
    assert process.returncode == 0, (f"{doc.where}: `{doc.command}` exited {process.returncode}\n"
                                     f"--- stdout (end)\n{stdout[-3000:]}\n--- stderr (end)\n{stderr[-3000:]}")


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_every_skip_marker_still_names_a_command_below_it():
    assert not STALE_MARKERS, [f"{m.where}: no command starts with `{m.prefix}`" for m in STALE_MARKERS]


def test_the_docs_show_commands_at_all():
    # The extraction itself: a change to the docs' code-block style must not silently leave nothing to run.
    assert any(c.command.startswith("semgate bench ") and not c.skip for c in COMMANDS)
    assert any(c.command == "make test" for c in COMMANDS)


def test_commands_are_found_in_fenced_and_indented_blocks_with_their_markers():
    doc = """Intro.

    semgate bench a --json   # a comment stays
    make test

<!-- docs-test: skip `semgate gateway` (serves) -->

```sh
$ semgate gateway --config x.yaml \\
    --listen 127.0.0.1:1
semgate bench b
```

- a list item
    not code, and no command
"""
    found = [(commands_in(body), markers) for _, body, markers in blocks(doc)]
    assert found == [(["semgate bench a --json   # a comment stays", "make test"], []),
                     (["semgate gateway --config x.yaml --listen 127.0.0.1:1", "semgate bench b"],
                      [("semgate gateway", "serves")])]
