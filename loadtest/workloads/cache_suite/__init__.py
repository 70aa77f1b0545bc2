"""semgate's own cache-quality suite: everyday questions and conversations, written here.

`python -m loadtest.workloads.cache_suite` writes loadtest/data/cache_suite/{single,multi}.jsonl
(deterministic: the same bytes on every run). loadtest/data/cache_suite/README.md documents the
format, the families and which domains form each split (tune, heldout, fresh).
"""

import json
from collections.abc import Iterable
from pathlib import Path

from gateway.cache.text import normalise
from loadtest.workloads.cache_suite.model import Row
from loadtest.workloads.cache_suite.multi import multi_rows
from loadtest.workloads.cache_suite.single import single_rows

SUITE_DIR = Path(__file__).resolve().parents[2] / "data" / "cache_suite"
SPLITS = ("tune", "heldout", "fresh")
# `fresh` (written later, see domains/__init__.py) is single-turn only; its rows follow the others' in single.jsonl.
MULTI_SPLITS = ("tune", "heldout")


def build() -> dict[str, list[Row]]:
    suite = {"single": [r for s in SPLITS for r in single_rows(s)],
             "multi": [r for s in MULTI_SPLITS for r in multi_rows(s)]}
    for rows in suite.values():
        check(rows)
    return suite


def check(rows: list[Row]) -> None:
    """A label must be true of the whole stored set, not just of its own pair.

    A trap may not be (the normalised text of) a question stored by another pair, or the
    lookup would have a right answer after all; a paraphrase may not be its question verbatim;
    no pair appears twice.
    """
    stored = {_unit(r.a, r.context_a) for r in rows}
    seen = set()
    for r in rows:
        key = (_unit(r.a, r.context_a), _unit(r.b, r.context_b))
        if key in seen:
            raise ValueError(f"pair appears twice: {r}")
        seen.add(key)
        if key[0] == key[1]:
            raise ValueError(f"a pair whose lookup is its stored question: {r}")
        if not r.duplicate and key[1] in stored:
            raise ValueError(f"trap is another pair's stored question: {r}")


def write(suite: dict[str, list[Row]], folder: Path = SUITE_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rows in suite.items():
        path = folder / f"{name}.jsonl"
        path.write_text(_lines(r.as_json() for r in rows), encoding="utf-8")
        paths.append(path)
    return paths


def _lines(rows: Iterable[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _unit(question: str, context: tuple[dict, ...]) -> str:
    return json.dumps([normalise(question), list(context)])
