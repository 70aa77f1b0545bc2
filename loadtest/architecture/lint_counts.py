"""ruff and mypy error counts per package, all trees judged by one config (main's pyproject by default)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.architecture.source_lines import PACKAGES

TOOLS = Path("/work/main/.venv/bin")
# ruff's report names each file it would change: "Would reformat: PATH" (older) or "--> PATH:LINE:COL" (newer).
_FORMAT_FILE = re.compile(r"(?:Would reformat: |--> )(\S+?\.pyi?)\b", re.MULTILINE)
_MYPY_ERROR = re.compile(r"^([^:\s]+\.pyi?):\d+(?::\d+)?: error:")


@dataclass
class LintCounts:
    ruff_check: dict[str, int] = field(default_factory=dict)  # violations per package
    ruff_format: dict[str, int] = field(default_factory=dict)  # files `ruff format` would change
    mypy: dict[str, int] = field(default_factory=dict)  # errors per package
    mypy_note: str = ""  # mypy's last line (its summary, or why it stopped)


def _package(path: str, tree: Path) -> str:
    relative = Path(path)
    if relative.is_absolute():
        relative = relative.relative_to(tree)
    return relative.parts[0]


def _run(command: list[str], tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nice", "-n", "10", *command], cwd=tree, capture_output=True, text=True, check=False)


def ruff_counts(tree: Path, config: Path) -> tuple[dict[str, int], dict[str, int]]:
    ruff = str(TOOLS / "ruff")
    checked = _run([ruff, "check", "--config", str(config), "--output-format", "json", *PACKAGES], tree)
    check = dict.fromkeys(PACKAGES, 0)
    for violation in json.loads(checked.stdout or "[]"):
        check[_package(violation["filename"], tree)] += 1
    formatted = _run([ruff, "format", "--check", "--config", str(config), *PACKAGES], tree)
    fmt = dict.fromkeys(PACKAGES, 0)
    for path in set(_FORMAT_FILE.findall(formatted.stdout + formatted.stderr)):
        fmt[_package(path, tree)] += 1
    return check, fmt


def mypy_counts(tree: Path, config: Path) -> tuple[dict[str, int], str]:
    # A cache per tree: a rerun on the same tree is quick, and the trees never share state.
    cache = Path(tempfile.gettempdir()) / f"semgate-arch-mypy-{hashlib.sha1(str(tree).encode()).hexdigest()[:12]}"
    result = _run([str(TOOLS / "mypy"), "--config-file", str(config), "--cache-dir", str(cache), *PACKAGES], tree)
    counts = dict.fromkeys(PACKAGES, 0)
    for line in result.stdout.splitlines():
        match = _MYPY_ERROR.match(line)
        if match and match.group(1).split("/")[0] in counts:
            counts[match.group(1).split("/")[0]] += 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    return counts, lines[-1] if lines else ""


def lint_counts(tree: Path, config: Path) -> LintCounts:
    check, fmt = ruff_counts(tree, config)
    mypy, note = mypy_counts(tree, config)
    return LintCounts(check, fmt, mypy, note)
