"""Lines of code per package, the share of long lines, and what sits at gateway/'s top level."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("gateway", "gpu_backend", "policies")
LONG_LINE = 100


@dataclass
class PackageLines:
    package: str
    files: int
    code_lines: int  # non-blank lines holding something other than a comment
    physical_lines: int
    long_lines: int  # physical lines over LONG_LINE characters


@dataclass
class TopLevel:
    modules: list[str]  # .py files directly in gateway/
    packages: list[str]  # folders directly in gateway/ with an __init__.py


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def code_lines(source: str) -> int:
    """Non-blank lines with at least one token that is not a comment (docstrings count as code)."""
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type not in skip:
                lines.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, SyntaxError):  # unparsable file: fall back to a line test
        return sum(1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#"))
    return len(lines)


def package_lines(tree: Path, package: str) -> PackageLines:
    files = python_files(tree / package)
    code = physical = long = 0
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        code += code_lines(text)
        rows = text.splitlines()
        physical += len(rows)
        long += sum(1 for row in rows if len(row) > LONG_LINE)
    return PackageLines(package, len(files), code, physical, long)


def all_lines(tree: Path) -> list[PackageLines]:
    return [package_lines(tree, package) for package in (*PACKAGES, "tests")]


def gateway_top_level(tree: Path) -> TopLevel:
    root = tree / "gateway"
    modules = sorted(p.name for p in root.glob("*.py"))
    packages = sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    return TopLevel(modules, packages)
