"""The gateway's share of the machine: beside a backend on this machine it yields the CPU and embeds
on one thread; alone it keeps the normal priority and two embedding threads."""

import os
import subprocess
import sys
import textwrap

import pytest

from gateway.config import ConfigError, GatewayConfig, parse_config
from gateway.cpu_share import EMBED_THREADS_ALONE, NICE_BESIDE_BACKEND

REMOTE_ONLY = """
backend: {enabled: false}
upstreams:
  - {name: hosted, base_url: "https://api.example.com/v1", models: [big]}
"""


def test_beside_the_bundled_backend_the_gateway_yields_the_cpu():
    share = GatewayConfig().with_bundled_backend().cpu_share()
    assert (share.nice, share.embed_threads, share.beside_backend) == (NICE_BESIDE_BACKEND, 1, True)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8001/v1", "http://localhost:9000/v1", "http://[::1]:8001/v1"])
def test_any_upstream_on_a_loopback_address_counts_as_this_machine(url):
    config = parse_config(REMOTE_ONLY + f'  - {{name: local, base_url: "{url}", models: [small]}}\n')
    assert config.cpu_share().beside_backend


def test_with_only_remote_upstreams_the_gateway_keeps_its_priority_and_threads():
    share = parse_config(REMOTE_ONLY).cpu_share()
    assert (share.nice, share.embed_threads, share.beside_backend) == (0, EMBED_THREADS_ALONE, False)


def test_the_config_overrides_either_choice():
    share = parse_config("cpu: {nice: 0, embed_threads: 2}").cpu_share()
    assert (share.nice, share.embed_threads) == (0, 2)


@pytest.mark.parametrize("section, problem", [
    ("{nice: 20}", r"cpu.nice: 20 is out of range \(allowed: a number from 0 to 19\)"),
    ("{nice: -5}", r"cpu.nice: -5 is out of range \(allowed: a number from 0 to 19\)"),
    ("{embed_threads: 0}", r"cpu.embed_threads: 0 is out of range \(allowed: a number >= 1\)"),
    ("{nice: high}", "cpu.nice: expected an integer"),
    ("{spin: true}", "cpu.spin: unknown field"),
])
def test_a_bad_cpu_section_is_a_config_error_that_names_the_field(section, problem):
    with pytest.raises(ConfigError, match=problem):
        parse_config(f"cpu: {section}")


def test_beside_a_backend_only_the_embedding_and_verifier_threads_yield_the_cpu():
    """The event loop relays streams at the normal priority; the workers that embed (and verify) run lower."""
    script = textwrap.dedent("""
        import os, threading
        from concurrent.futures import ThreadPoolExecutor
        from gateway.cpu_share import CpuShare, lower_this_thread, settle
        settle(CpuShare(nice=7, embed_threads=1, beside_backend=True))
        worker = ThreadPoolExecutor(max_workers=1, initializer=lower_this_thread)
        plain = []
        thread = threading.Thread(target=lambda: plain.append(os.getpriority(os.PRIO_PROCESS, 0)))
        thread.start(); thread.join()
        print(os.getpriority(os.PRIO_PROCESS, 0), worker.submit(os.getpriority, os.PRIO_PROCESS, 0).result(), plain[0])
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    base = os.nice(0)
    assert run.stdout.split() == [str(base), str(min(19, base + 7)), str(base)]


def test_settling_puts_numpys_blas_on_one_thread():
    """OpenBLAS's idle threads spin after each product; the gateway's products are small."""
    script = textwrap.dedent("""
        import numpy
        from threadpoolctl import threadpool_info
        from gateway.cpu_share import CpuShare, settle
        settle(CpuShare(nice=0, embed_threads=2, beside_backend=False))
        print(sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert run.stdout.strip() == "[1]"
