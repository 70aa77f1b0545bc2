"""The gateway modules a request passes through, traced at run time on the tree's own code.

`request_path_probe.py` runs in a subprocess with the tree first on the path, in front of the echo upstream
(started here, from this checkout), and records calls into gateway.* code during one request: a miss forwarded
upstream, then an exact hit on the same question, then a semantic hit on a paraphrase (all chat completions, not
streamed, after one warm-up question so first-request work is left out). A second run with IC-Cache on (two
model entries, the strong one asked for) gives a routed miss.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve()
CHECKOUT = HERE.parents[2]  # where the echo upstream comes from; not measured
PATHS = ("semantic_hit", "exact_hit", "miss")


@dataclass
class RequestPath:
    name: str
    cache_header: str  # x-semgate-cache (and x-semgate-match) as the tree answered
    match_header: str
    routed_to: str  # x-semgate-model when IC-Cache routed the request
    modules: list[str]  # gateway modules in the order the request first entered them (event-loop thread)
    calls_between_modules: int  # calls that moved into another gateway module
    returns: int  # of those, calls into a module the request had already entered and left
    returned_to: dict[str, int]  # module -> how many returns went to it
    worker_modules: list[str]  # gateway modules run on worker threads (embedding, store)


def summarise(name: str, raw: dict[str, object], leave_out: frozenset[str] = frozenset()) -> RequestPath:
    """`leave_out`: modules taken out of the trace (calls around them then join), to compare like with like."""
    kept = [str(m) for m in raw["runs"] if str(m) not in leave_out]  # type: ignore[attr-defined]
    runs = [m for i, m in enumerate(kept) if i == 0 or kept[i - 1] != m]
    modules: list[str] = []
    returned_to: dict[str, int] = {}
    for module in runs:  # consecutive calls in one module are already merged into one run
        if module in modules:
            returned_to[module] = returned_to.get(module, 0) + 1
        else:
            modules.append(module)
    workers = [str(m) for m in raw["worker_modules"]]  # type: ignore[attr-defined]
    return RequestPath(
        name,
        str(raw["cache_header"]),
        str(raw["match_header"]),
        str(raw.get("model_header", "")),
        modules,
        max(len(runs) - 1, 0),
        sum(returned_to.values()),
        dict(sorted(returned_to.items(), key=lambda kv: -kv[1])),
        workers,
    )


def check_outcome(path: RequestPath) -> None:
    """A path counts only if the tree answered it the way its name says (a real semantic hit, a real miss)."""
    wanted = {"semantic_hit": ("hit", "semantic"), "exact_hit": ("hit", "exact")}.get(path.name, ("miss", ""))
    if path.cache_header != wanted[0] or not path.match_header.startswith(wanted[1]):
        raise RuntimeError(f"{path.name} was answered x-semgate-cache: {path.cache_header} {path.match_header}")
    if path.name == "routed_miss" and not path.routed_to:
        raise RuntimeError("the routed miss was not routed (no x-semgate-model)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_echo() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    command = [sys.executable, "-m", "loadtest.echo_upstream", "--port", str(port)]
    echo = subprocess.Popen(command, cwd=CHECKOUT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/v1/models", timeout=1).status_code == 200:
                return echo, url
        except httpx.TransportError:
            time.sleep(0.1)
    echo.kill()
    raise RuntimeError("the echo upstream did not start")


def trace_request_paths(tree: Path, leave_out: frozenset[str] = frozenset()) -> list[RequestPath]:
    echo, url = _start_echo()
    try:
        plain = _probe(tree, url, routed=False)
        routed = _probe(tree, url, routed=True)
    finally:
        echo.terminate()
        echo.wait(timeout=10)
    paths = [summarise(name, plain[name], leave_out) for name in PATHS]
    paths.append(summarise("routed_miss", routed["miss"], leave_out))
    for path in paths:
        check_outcome(path)
    return paths


def _probe(tree: Path, url: str, routed: bool) -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory() as store:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        command = [sys.executable, str(HERE.with_name("request_path_probe.py")), "--upstream", url, "--store", store]
        command += ["--routed"] if routed else []
        probe = subprocess.run(
            ["nice", "-n", "10", *command], cwd=tree, env=env, capture_output=True, text=True, check=False, timeout=300
        )
    if probe.returncode != 0:
        raise RuntimeError(f"the request-path probe failed on {tree}:\n{probe.stderr[-3000:]}")
    result: dict[str, dict[str, object]] = json.loads(probe.stdout.strip().splitlines()[-1])
    return result
