"""SEMGATE_SMOKE=1: run a bench (or `semgate loadtest`) as a quick check of itself, not a measurement.

Each bench module declares SMOKE, the smoke size of some of its options; with the variable set,
`semgate bench` / `semgate loadtest` cap each of those options at its size before the command runs:
fewer requests, smaller sizes, shorter durations, the first entry of a sweep (counts a bench keeps
to itself go through size()). Paths, the working directory and every other argument stay as the user
gave them, so the docs' commands (tests/test_docs_commands.py) run as written, only small. The
figures of a smoke run measure nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Mapping

ENV = "SEMGATE_SMOKE"
FIRST = math.inf  # size of a sweep option whose values stay as given: only its first entry is kept


def enabled() -> bool:
    return os.environ.get(ENV, "") not in ("", "0")


def size(full: int, small: int) -> int:
    """`small` in a smoke run (when it is smaller), else `full`: for a bench's own counts that are not options."""
    return min(full, small) if enabled() else full


def shrink(args: argparse.Namespace, sizes: Mapping[str, float]) -> list[str]:
    """Cap each option named in `sizes`; returns what changed, as "name: old -> new".

    A number becomes at most its size; an option left unset (None: "all of them") becomes its size;
    a sweep (a list, or a comma-separated string of numbers) keeps its first entry, capped."""
    changes = []
    for name, cap in sizes.items():
        old = getattr(args, name)
        new = _capped(old, cap)
        if new != old:
            setattr(args, name, new)
            changes.append(f"{name}: {old} -> {new}")
    return changes


def apply(args: argparse.Namespace, sizes: Mapping[str, float], command: str) -> None:
    """Shrink `args` when SEMGATE_SMOKE is set, and say so on stderr."""
    if not enabled():
        return
    changes = shrink(args, sizes)
    print(f"{command}: {ENV}=1, a smoke run whose figures measure nothing"
          + (f" ({'; '.join(changes)})" if changes else ""), file=sys.stderr)


def _capped(value: object, cap: float) -> object:
    if value is None:
        return None if cap == FIRST else _number(cap)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return type(value)(min(value, cap))
    if isinstance(value, list):
        return value[:1] and [_capped(value[0], cap)]
    if isinstance(value, str):
        head = value.split(",")[0].strip()
        try:
            number = float(head)
        except ValueError:
            return value  # not a numeric sweep ("auto", a model name): left as given
        return head if number <= cap else str(_number(cap))
    return value


def _number(cap: float) -> int | float:
    return int(cap) if float(cap).is_integer() else cap
