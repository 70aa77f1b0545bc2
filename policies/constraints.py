"""What a schema field accepts, kept in the field's own metadata so a schema and its checks cannot drift apart.

Shared by every YAML document semgate reads through policies/validation.py: the policy file and gateway.yaml.
A field is declared as `name: type = checked(default, constraint, doc)`, so its default is written once, there.
"""

import re
from dataclasses import dataclass, field
from typing import Any, TypeVar


@dataclass(frozen=True)
class Range:
    """A number constraint: low <= x <= high (or low < x when low_open)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def admits(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or value <= self.high

    def describe(self) -> str:
        if self.low is not None and self.high is not None:
            return f"a number from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"a number {'>' if self.low_open else '>='} {self.low:g}"
        return f"a number <= {self.high:g}"


@dataclass(frozen=True)
class OneOf:
    values: tuple[str, ...]

    def describe(self) -> str:
        return ", ".join(self.values)


@dataclass(frozen=True)
class Matches:
    """A string constraint: the whole value matches `pattern`; `what` names such a value in errors."""

    pattern: str
    what: str

    def admits(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None

    def describe(self) -> str:
        return f"names matching {self.pattern}"


Constraint = Range | OneOf | Matches

_T = TypeVar("_T")


def checked(default: _T, check: Constraint | None = None, doc: str = "", expects: str | None = None) -> _T:
    """A field with its default, its constraint and what it is for. `expects` replaces the type's own
    words in a wrong-type error ("expected HOST:PORT" rather than "expected a string")."""
    metadata: dict[str, Any] = {"check": check, "doc": doc}
    if expects:
        metadata["expects"] = expects
    return field(default=default, metadata=metadata)


UNIT = Range(0.0, 1.0)
POSITIVE = Range(0.0, None, low_open=True)
NON_NEGATIVE = Range(0.0, None)
AT_LEAST_ONE = Range(1, None)
