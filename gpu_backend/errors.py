"""The backend's exception types, one module for all of them.

Each subclasses the built-in error it replaces (ValueError for bad input or configuration,
RuntimeError for a state the backend cannot go on from), so callers that catch those still
work; new code catches the named type. The server answers InvalidRequest with a 400 and
EngineStopped with a 503.
"""


class BackendError(Exception):
    """Any error the backend raises on purpose."""


class InvalidRequest(BackendError, ValueError):
    """A request that can never run (bad prompt, bad parameters or SLO headers); nothing changed."""


class InvalidConfig(BackendError, ValueError):
    """Engine, pool or kernel settings that do not fit together or are out of range."""


class UnsupportedModel(InvalidConfig):
    """A model file or folder this backend cannot load (architecture, tokenizer, RoPE scaling)."""


class PartitionUnavailable(InvalidConfig):
    """A phase-split partition (GPU green contexts, MPS) asked for on a machine that lacks it."""


class KernelInputError(BackendError, ValueError):
    """Tensors handed to a kernel in a layout it does not take (a caller's bug, not bad input)."""


class KernelUnavailable(BackendError, RuntimeError):
    """A native kernel called although it did not build or load (callers check `available()` first)."""


class KernelMismatch(BackendError, ValueError):
    """A kernel's output whose shape differs from its reference's (gpu-check reports it as a finding)."""


class KVStateError(BackendError, ValueError):
    """KV bookkeeping that would go wrong: a free block released, an unlocked node unlocked,
    host and device ranges that do not match, reused chunks that overlap."""


class OutOfBlocksError(BackendError, RuntimeError):
    """Fewer KV blocks are free than asked for."""


class KVPoolTooSmall(BackendError, RuntimeError):
    """A sequence that does not fit even in the whole KV pool."""


class WorkerFailed(BackendError, RuntimeError):
    """A phase worker process did not start, exited, or failed a step."""


class SchedulingError(BackendError, RuntimeError):
    """A scheduler call that would break its invariants (e.g. finishing a sequence in flight)."""


class EngineStopped(BackendError, RuntimeError):
    """A request reached the engine after it stopped (the server is shutting down)."""


class FairShareDisabled(BackendError):
    """Tenant weights were set while fair share is off."""
