"""What a rejected policy reports: one issue per problem, each pointing at the place to fix."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PolicyIssue:
    source: str  # file path, or "<admin>" for a policy posted to the admin API
    line: int | None  # 1-based; None when the problem has no place in the text (file missing)
    column: int | None
    path: str  # field path, e.g. "categories.finance.ttl_seconds"
    message: str
    allowed: str | None = None  # the values or range the field accepts

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return text + (f" (allowed: {self.allowed})" if self.allowed else "")

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "allowed": self.allowed,
        }


class PolicyError(Exception):
    """A policy that did not validate; `errors` lists every problem found, not just the first."""

    def __init__(self, errors: list[PolicyIssue]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))
