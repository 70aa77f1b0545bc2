"""Single-turn pairs: each family's question against its paraphrases and its traps."""

import random

from loadtest.workloads.cache_suite.domains import SPLIT, domain_name
from loadtest.workloads.cache_suite.model import Family, Row, fill
from loadtest.workloads.cache_suite.registers import with_opener, with_typos


def single_rows(split: str) -> list[Row]:
    rng = random.Random(f"cache-suite-single-{split}")
    rows = []
    for module in SPLIT[split]:
        for index, family in enumerate(module.FAMILIES):
            rows += family_rows(family, domain_name(module), split, index, rng)
    return rows


def family_rows(family: Family, domain: str, split: str, index: int, rng: random.Random) -> list[Row]:
    def row(a: str, b: str, duplicate: bool, kind: str) -> Row:
        return Row(a, b, duplicate, kind, domain, family.id, split)

    rows = []
    for values in family.fills:
        base = fill(family.base, values)
        rows += [row(base, fill(text, values), True, kind) for kind, text in family.hits]
        rows += [row(base, fill(text, values), False, kind) for kind, text in family.misses]
        # One generated register per fill, alternating so both kinds cover every domain.
        if (index + len(rows)) % 2:
            rows.append(row(base, with_typos(base, rng), True, "typo"))
        else:
            rows.append(row(base, with_opener(base, rng, split), True, "greeting"))
    return rows
