"""How the backend process ends: at once when told to, and with the `semgate up` that started it."""

import ctypes
import logging
import os
import signal
import sys
import threading

import uvicorn

from gpu_backend.engine import AsyncEngine

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class BackendServer(uvicorn.Server):
    """uvicorn, except that a shutdown stops the engine first. uvicorn waits for the requests in
    flight before the app's lifespan ends, and a generation may run for hundreds of tokens; with
    the engine stopped they end at once (a JSON request gets a 503, a stream an error event) and
    the process exits within one engine step, before whoever stopped it gives up and kills it."""

    def __init__(self, config: uvicorn.Config, engine: AsyncEngine) -> None:
        super().__init__(config)
        self._engine = engine

    async def shutdown(self, sockets: list | None = None) -> None:
        # On the event loop, so no request can be submitted between the stop and the refusal
        # that follows it (AsyncEngine.submit raises once stopped). It blocks for one step at most.
        self._engine.stop()
        await super().shutdown(sockets)


def exit_with_parent() -> None:
    """SIGTERM this process (a graceful shutdown once it serves; an exit while it loads) when the
    process that started it dies, however it dies: a SIGKILL of `semgate up` must not leave an
    orphan holding the backend's port. The parent gives us the read end of a pipe as stdin and
    keeps the write end, which the kernel closes when the parent dies: EOF on stdin is the signal,
    on any OS and even if the parent died before we got here. On Linux the parent-death signal
    also fires when some other process inherited the write end by mistake."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed (errno %d); relying on stdin EOF", ctypes.get_errno())
    threading.Thread(target=_terminate_at_stdin_eof, name="semgate-parent-watch", daemon=True).start()


def _terminate_at_stdin_eof() -> None:
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass  # no stdin to read: as far as we can tell, the parent is gone
    log.info("the parent process is gone (stdin closed); shutting down")
    os.kill(os.getpid(), signal.SIGTERM)
