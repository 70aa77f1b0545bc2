"""How much of the machine the gateway takes when an LLM backend runs on the same one.

`semgate up` puts the gateway and the bundled backend on one machine. The backend's torch threads
run each matmul in lockstep across the cores, so any other runnable thread that takes a core from
one of them holds up the whole parallel region: a gateway costing ~5% of the backend's CPU made
each output token ~30% slower (docs/benchmarks.md, e2e). Beside a backend the gateway therefore
(1) lowers its own CPU priority, so its short bursts (a relayed chunk, a lookup) run in the gaps
the backend leaves instead of preempting it, and (2) embeds on one thread, so a lookup never takes
both cores at once. A backend "on the same machine" is any upstream on a loopback address; set
`cpu.nice` and `cpu.embed_threads` in gateway.yaml to choose otherwise.

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
# gateway still gets the CPU it needs (a few % of a core), only later within a scheduling period.
NICE_BESIDE_BACKEND = 10
# Alone, two embedding threads: a lone query takes 4.9 ms on two, 6.8 ms on one (gateway/cache/embedder.py).
EMBED_THREADS_ALONE = min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class CpuConfig:
    """`None` means: decided by whether an upstream runs on this machine (see the module)."""

    nice: int | None = checked(None, Range(0, 19), "CPU priority (nice) of the gateway's threads")
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
    threadpool_limits(limits=1, user_api="blas")
    lower_priority(share)


def lower_priority(share: CpuShare) -> None:
    """Raise this thread's nice value; threads started afterwards (the event loop is this one; the
    embedding, store and ONNX Runtime threads start later) inherit it. Call after starting any
    child process that must keep the normal priority (the bundled backend)."""
    if share.nice <= 0:
        return
    os.nice(share.nice)
    log.info(
        "running at nice %d%s",
        os.nice(0),
        " (an upstream runs on this machine; cpu.nice in gateway.yaml changes it)" if share.beside_backend else "",
    )


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
