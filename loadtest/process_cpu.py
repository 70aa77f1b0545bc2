"""CPU seconds a server process and its children have used, read from /proc (Linux).

The e2e bench reads them before and after a run, so every run shows what each process cost
per request, whatever else the machine was doing: CPU time is counted per process, not
taken from the wall clock.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of `pid` and its live descendants (None where /proc cannot tell)."""
    total, seen = 0.0, False
    for each in _tree(pid):
        used = _own_cpu(each)
        if used is not None:
            total, seen = total + used, True
    return total if seen else None


def _own_cpu(pid: int) -> float | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / _TICKS


def _tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                pending.extend(int(child) for child in task.read_text().split())
            except OSError:
                continue
    return found
