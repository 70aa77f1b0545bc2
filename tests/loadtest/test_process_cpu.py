"""CPU accounting of a server process, as the e2e bench reads it."""

import os
import subprocess
import sys

from loadtest.process_cpu import cpu_seconds


def test_a_busy_child_is_counted_with_its_parent():
    burn = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass\nprint('done', flush=True)\n"
    parent = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys, time\n"
                               f"child = subprocess.Popen([sys.executable, '-c', {burn!r}], stdout=subprocess.PIPE)\n"
                               f"child.stdout.readline()\nprint('child done', flush=True)\ntime.sleep(30)\n"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "child done"
        assert cpu_seconds(parent.pid) >= 0.4  # the child's burn, counted while it is alive or once reaped
    finally:
        parent.kill()
        parent.wait()


def test_a_process_that_is_gone_has_no_reading():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert cpu_seconds(process.pid) is None
    assert cpu_seconds(os.getpid()) > 0
