"""One module per everyday domain; `SPLIT` assigns whole domains (with their templates) to a half."""

from types import ModuleType

from loadtest.workloads.cache_suite.domains import (banking, cars, cooking, education, government, health, housing,
                                                    insurance, knowledge, pets, shopping, software, telecom,
                                                    travel, utilities, workplace)

# Tuning may look at these domains and their templates; the held-out half is only ever measured.
SPLIT: dict[str, tuple[ModuleType, ...]] = {
    "tune": (banking, shopping, travel, telecom, software, cooking, insurance, pets),
    "heldout": (health, utilities, knowledge, workplace, housing, education, government, cars),
}


def domain_name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[1]
