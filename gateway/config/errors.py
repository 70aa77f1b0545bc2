"""What a rejected gateway.yaml reports: every problem found, each where policies put theirs.

An issue prints as `file:line:column: field: problem (allowed: ...)`, the shape of a policy error
(policies/errors.py), so an operator reads one format for both files and can jump to the place.
"""

from collections.abc import Sequence

from policies.errors import PolicyIssue


class ConfigError(ValueError):
    """`issues`, ordered by place in the file; the first one's parts are kept as attributes."""

    def __init__(self, issues: Sequence[PolicyIssue]) -> None:
        self.issues = sorted(issues, key=lambda issue: (issue.line or 0, issue.column or 0))
        first = self.issues[0]
        self.source, self.field_path = first.source, first.path
        self.line, self.column = first.line, first.column
        self.problem = first.message + (f" (allowed: {first.allowed})" if first.allowed else "")
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @classmethod
    def at(cls, source: str, field_path: str, problem: str) -> "ConfigError":
        """One problem with no place in a file (a command-line setting, a rule across sections)."""
        return cls([PolicyIssue(source, None, None, field_path, problem)])
