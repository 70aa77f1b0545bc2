"""How much of the machine the gateway takes when an LLM backend runs on the same one.

`semgate up` puts the gateway and the bundled backend on one machine. The backend's torch threads
run each matmul in lockstep across the cores, so any other runnable thread that takes a core from
one of them holds up the whole parallel region: a gateway costing ~5% of the backend's CPU made
each output token ~30% slower (docs/benchmarks.md, e2e). Beside a backend the gateway therefore
(1) runs its long bursts, an embedding or a verifier run (milliseconds each), on worker threads of
lower CPU priority, so that they fill the gaps the backend leaves instead of preempting it, and
(2) embeds on one thread, so a lookup never takes both cores at once. The event loop, which relays
streamed answers, keeps the normal priority: a relayed chunk is a fraction of a millisecond of work
that arrives when the backend has just finished a step, and run at once it is done before the next
step's parallel region starts; at a lower priority it waited for a core and then held that region
up (the pure proxy measured 5% slower per token at nice 10, docs/benchmarks.md, e2e). A backend "on
the same machine" is any upstream on a loopback address; set `cpu.nice` and `cpu.embed_threads` in
gateway.yaml to choose otherwise.

In every case numpy's BLAS runs on one thread in the gateway: its products are a vector against a
few thousand rows, and OpenBLAS's second thread spins for tens of milliseconds after each one (20
such products 50 ms apart: 500 ms of CPU on two threads, 20 ms on one).
"""

import ipaddress
import logging
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from threadpoolctl import threadpool_limits

from policies.constraints import AT_LEAST_ONE, Range, checked

log = logging.getLogger(__name__)

# Nice 10 gives a thread about a tenth of a nice-0 thread's weight: beside a saturated backend the
# gateway's embedding still gets the CPU it needs (a few % of a core), only later within a scheduling period.
NICE_BESIDE_BACKEND = 10
_worker_nice = 0  # set by settle(): what lower_this_thread() adds to a worker thread's nice value
# Alone, two embedding threads: a lone query takes 4.9 ms on two, 6.8 ms on one (gateway/cache/embedder.py).
EMBED_THREADS_ALONE = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class CpuConfig:
    """`None` means: decided by whether an upstream runs on this machine (see the module)."""

    nice: int | None = checked(None, Range(0, 19), "CPU priority (nice) of the embedding and verifier threads")
    embed_threads: int | None = checked(None, AT_LEAST_ONE, "threads the embedding model runs on")


@dataclass(frozen=True)
class CpuShare:
    nice: int
    embed_threads: int
    beside_backend: bool


def cpu_share(config: CpuConfig, upstream_urls: list[str]) -> CpuShare:
    beside = any(_is_loopback(url) for url in upstream_urls)
    nice = config.nice if config.nice is not None else (NICE_BESIDE_BACKEND if beside else 0)
    threads = config.embed_threads if config.embed_threads is not None else (1 if beside else EMBED_THREADS_ALONE)
    return CpuShare(nice=nice, embed_threads=threads, beside_backend=beside)


def settle(share: CpuShare) -> None:
    """Take the share: call once, in the gateway process, before the server starts."""
    global _worker_nice
    threadpool_limits(limits=1, user_api="blas")
    _worker_nice = share.nice
    if share.nice > 0:
        log.info(
            "embedding and verifier threads run at nice %d%s",
            share.nice,
            " (an upstream runs on this machine; cpu.nice in gateway.yaml changes it)" if share.beside_backend else "",
        )


def lower_this_thread() -> None:
    """The initializer of the gateway's CPU-heavy worker threads (embedding, verifier): raises the calling
    thread's nice value by the settled share's (on Linux a thread's priority is its own)."""
    if _worker_nice > 0:
        os.setpriority(os.PRIO_PROCESS, 0, min(19, os.getpriority(os.PRIO_PROCESS, 0) + _worker_nice))


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
