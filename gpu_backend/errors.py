"""The backend's exception types, one module for all of them.

Each subclasses the built-in error it replaces (ValueError for bad input or configuration,
RuntimeError for a state the backend cannot go on from), so callers that catch those still
work; new code catches the named type. The server maps InvalidRequest to a 400.
"""


class BackendError(Exception):
    """Any error the backend raises on purpose."""


class InvalidRequest(BackendError, ValueError):
    """A request that can never run (bad prompt, bad parameters); nothing was changed."""


class InvalidConfig(BackendError, ValueError):
    """Engine or model settings that do not fit together or are out of range."""


class KVPoolTooSmall(BackendError, RuntimeError):
    """A sequence that does not fit even in the whole KV pool."""


class WorkerFailed(BackendError, RuntimeError):
    """A phase worker process did not start, exited, or failed a step."""


class SchedulingError(BackendError, RuntimeError):
    """A scheduler call that would break its invariants (e.g. finishing a sequence in flight)."""


class FairShareDisabled(BackendError):
    """Tenant weights were set while fair share is off."""
