"""Benchmarks behind `semgate bench NAME`.

Each module here is one benchmark. It defines:

    DESCRIPTION: str                       one line for `semgate bench --help`
    add_arguments(parser) -> None          its own flags (always accept --json)
    run(args) -> int                       prints figures (JSON with --json); exit code

Modules are discovered by name, so a new benchmark is one new file.
"""

import importlib
import pkgutil
from types import ModuleType


def bench_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load_bench(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
