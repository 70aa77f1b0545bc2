"""The `semgate ...` and `make ...` commands that README.md and docs/*.md show in code blocks.

A command the tests cannot run (it needs a GPU, a server already running, a file of the user's) is
marked in the docs, in an HTML comment anywhere between the code block before it and its own block:

    <!-- docs-test: skip `COMMAND PREFIX` (why) -->

It covers the commands of the next code block that start with COMMAND PREFIX; the reason is printed
when the tests skip them. Everything else runs (tests/test_docs_commands.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMAND = re.compile(r"^(semgate|make)(\s|$)")
MARKER = re.compile(r"<!--\s*docs-test:\s*skip\s+`([^`]+)`\s+\((.+?)\)\s*-->")
FENCE = re.compile(r"^\s*(```|~~~)")
RESULTS: list[tuple[str, str]] = []  # (command, what happened), for the terminal summary in tests/conftest.py


@dataclass(frozen=True)
class DocCommand:
    command: str  # as written, continuation lines joined
    where: str  # file:line of its code block
    skip: str | None  # the docs' reason not to run it


@dataclass(frozen=True)
class Marker:
    prefix: str
    reason: str
    where: str


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(text: str) -> list[tuple[int, list[str], list[tuple[str, str]]]]:
    """(line number, lines, skip markers (prefix, reason) since the previous block) of every fenced
    or indented code block."""
    found, markers = [], []
    lines = text.splitlines()
    i, after_blank = 0, True
    while i < len(lines):
        line = lines[i]
        markers += MARKER.findall(line)
        fence = FENCE.match(line)
        if fence:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip().startswith(fence.group(1))),
                       len(lines))
            found.append((i + 1, lines[i + 1:end], markers))
            markers, i, after_blank = [], end + 1, True
            continue
        if after_blank and line.startswith("    ") and line.strip():
            start = i
            while i < len(lines) and (lines[i].startswith("    ") or not lines[i].strip()):
                i += 1
            found.append((start + 1, [x[4:] for x in lines[start:i]], markers))
            markers, after_blank = [], True
            continue
        after_blank = not line.strip()
        i += 1
    if markers:  # after the last block: they cover nothing, and collect() reports them as stale
        found.append((len(lines), [], markers))
    return found


def commands_in(lines: list[str]) -> list[str]:
    """The block's commands, continuation lines joined and a `$ ` prompt dropped."""
    joined = re.sub(r"\s*\\\n\s*", " ", "\n".join(lines))
    commands = [line.strip().removeprefix("$ ") for line in joined.splitlines()]
    return [c for c in commands if COMMAND.match(c)]


def collect() -> tuple[list[DocCommand], list[Marker]]:
    """Every command of every doc, and the markers that matched none (stale: the docs changed)."""
    commands, stale = [], []
    for path in doc_files():
        name = path.relative_to(ROOT).as_posix()
        for line, body, markers in blocks(path.read_text()):
            found = commands_in(body)
            for prefix, reason in markers:
                if not any(c.startswith(prefix) for c in found):
                    stale.append(Marker(prefix, reason, f"{name}:{line}"))
            for command in found:
                reason = next((r for p, r in markers if command.startswith(p)), None)
                commands.append(DocCommand(command, f"{name}:{line}", reason))
    return commands, stale
