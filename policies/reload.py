"""Hot reload: the policy in force, replaced only by a candidate that validated, in one step.

The holder keeps the policy together with what is derived from it (the gateway derives the
classifier, whose categories must match the policy's), so a request that reads `current` sees one
consistent (version, policy, derived) triple. A rejected candidate changes nothing.
"""

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from policies.errors import PolicyError, PolicyIssue
from policies.loader import load_policy_file, parse_policy_text
from policies.schema import PolicySet

Derived = TypeVar("Derived")


@dataclass(frozen=True)
class ActivePolicy(Generic[Derived]):
    version: int
    policies: PolicySet
    derived: Derived


@dataclass(frozen=True)
class ReloadResult:
    accepted: bool
    version: int  # the version in force after the attempt
    errors: tuple[PolicyIssue, ...] = ()


class PolicyHolder(Generic[Derived]):
    def __init__(self, initial: PolicySet, derive: Callable[[PolicySet], Derived]):
        """`derive` runs before each swap, outside the lock: a slow derivation (embedding the
        examples) never blocks readers, and the swap itself is one reference assignment."""
        self._derive = derive
        self._lock = threading.Lock()
        self._active = ActivePolicy(1, initial, derive(initial))

    @property
    def current(self) -> ActivePolicy[Derived]:
        return self._active

    def offer(self, policies: PolicySet) -> ReloadResult:
        derived = self._derive(policies)
        with self._lock:
            self._active = ActivePolicy(self._active.version + 1, policies, derived)
            return ReloadResult(True, self._active.version)

    def offer_text(self, text: str, source: str = "<admin>") -> ReloadResult:
        try:
            candidate = parse_policy_text(text, source)
        except PolicyError as error:
            return self._rejected(error)
        return self.offer(candidate)

    def offer_file(self, path: str | os.PathLike[str]) -> ReloadResult:
        try:
            candidate = load_policy_file(path)
        except PolicyError as error:
            return self._rejected(error)
        return self.offer(candidate)

    def _rejected(self, error: PolicyError) -> ReloadResult:
        return ReloadResult(False, self._active.version, tuple(error.errors))
