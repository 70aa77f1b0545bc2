"""The `semgate` command.

`gateway` and `up` run here. `backend`, `bench` and `loadtest` belong to other packages and
run as `python -m gpu_backend` / `python -m loadtest` in a fresh interpreter: the gateway
talks to the backend only over HTTP and never imports it.
"""

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from gateway.admin.cli import add_admin_parser
from gateway.config import ConfigError, GatewayConfig, load_config
from gateway.incontext.replay import add_replay_arguments
from gateway.port_holder import listeners, port_taken

DELEGATED = {
    "backend": (["gpu_backend"], "run the bundled LLM backend (OpenAI-compatible server)"),
    "bench": (["loadtest", "bench"], "run a benchmark that prints its figures (semgate bench --help lists them)"),
    "loadtest": (["loadtest", "loadtest"], "send a workload to a target and report latency, hit rate, goodput"),
    "policies": (["policies"], "check a category policy file: semgate policies check FILE"),
    "gpu-check": (
        ["gpu_backend.gpu_check"],
        (
            "check the backend's kernels, logits and benches on this machine's GPU "
            "(on a CPU: under Triton's interpreter, tiny shapes)"
        ),
    ),
}
DEFAULT_CONFIG = Path("config/gateway.yaml")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DELEGATED:
        module_args, _ = DELEGATED[argv[0]]
        command = [sys.executable, "-m", *module_args, *argv[1:]]
        os.execv(sys.executable, command)
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as exc:
        print(f"semgate: config error: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="semgate", description="Semantic caching gateway for LLM traffic.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = commands.add_parser(
        "up",
        help="start the bundled backend and the gateway on the embedded defaults",
        description="Start the bundled backend and the gateway; Ctrl-C stops both.",
    )
    _add_gateway_args(up)
    up.set_defaults(run=run_up)

    gw = commands.add_parser("gateway", help="run the gateway alone", description="Run the gateway alone.")
    _add_gateway_args(gw)
    gw.set_defaults(run=run_gateway)

    add_admin_parser(commands)

    replay = commands.add_parser(
        "replay",
        help="re-score IC-Cache examples offline with the small model",
        description="Re-score stored in-context examples with the small model and prune "
        "harmful ones (gateway/incontext/replay.py); safe while the gateway "
        "serves.",
    )
    replay.add_argument("--config", type=Path, default=None, help="gateway.yaml (as for `semgate gateway`)")
    replay.add_argument("--listen", default=None, help=argparse.SUPPRESS)
    add_replay_arguments(replay)
    replay.set_defaults(run=run_replay)

    for name, (_, help_text) in DELEGATED.items():
        # Parsed by the delegated module; listed here so `semgate --help` shows them.
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def _add_gateway_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"gateway.yaml (default: $SEMGATE_CONFIG, else {DEFAULT_CONFIG} if present, else built-in defaults)",
    )
    parser.add_argument("--listen", default=None, help="HOST:PORT, overrides the config (default 127.0.0.1:8080)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def resolve_config(args: argparse.Namespace) -> GatewayConfig:
    path = args.config or (Path(os.environ["SEMGATE_CONFIG"]) if os.environ.get("SEMGATE_CONFIG") else None)
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    config = load_config(path) if path else GatewayConfig().with_bundled_backend()
    if args.listen:
        host, _, port = args.listen.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError.at("--listen", "listen", f"expected HOST:PORT, got {args.listen!r}")
        config = config.with_listen(host.strip("[]"), int(port))
    return config


def run_gateway(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    server = _gateway_server(config, args.log_level)
    _announce_when_ready(
        server,
        f"semgate gateway on http://{config.host}:{config.port}  "
        f"(OpenAI base_url: http://{config.host}:{config.port}/v1)",
    )
    _run_until_interrupted(server)
    return 0


def run_up(args: argparse.Namespace) -> int:
    config = resolve_config(args)
    # A SIGTERM (systemd, docker stop, kill) must stop the backend too. uvicorn re-raises it after its
    # graceful shutdown, which by default ends the process before the `finally` below could run.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    _refuse_taken_ports(config)
    backend = None
    if config.backend.enabled:
        backend = _start_backend(config)
    else:
        print("semgate: bundled backend disabled in the config; starting the gateway alone", flush=True)
    try:
        server = _gateway_server(config, args.log_level)
        backend_died = _stop_gateway_if_backend_exits(server, backend) if backend is not None else threading.Event()
        _announce_when_ready(
            server,
            f"semgate is up. Point an OpenAI SDK at base_url=http://{config.host}:{config.port}/v1 (Ctrl-C stops)",
            backend,
        )
        _run_until_interrupted(server)
    finally:
        if backend is not None:
            _stop(backend)
    return 1 if backend_died.is_set() else 0


def run_replay(args: argparse.Namespace) -> int:
    from gateway.incontext.replay import run_replay as replay

    return replay(resolve_config(args), args)


def _gateway_server(config: GatewayConfig, log_level: str) -> uvicorn.Server:
    from gateway.app import build_app
    from gateway.cpu_share import settle
    from gateway.edge.http_limits import server_options
    from gateway.observe.log_safety import configure_logging, known_secrets

    # uvicorn's own loggers propagate to this one handler (log_config=None below): every line is escaped and redacted.
    configure_logging(log_level, known_secrets(config))
    # One line per upstream request is noise; failures are logged by the gateway itself.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(log_level.upper())))
    settle(config.cpu_share())
    app = build_app(config)
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level=log_level,
            access_log=False,
            timeout_graceful_shutdown=5,
            log_config=None,
            **server_options(config.limits),
        )
    )


def _announce_when_ready(server: uvicorn.Server, message: str, backend: subprocess.Popen | None = None) -> None:
    """Print once the gateway accepts requests (after the cache has loaded) and the backend, if
    any, still runs; not before."""

    def wait() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.1)
        if server.started and not server.should_exit and (backend is None or backend.poll() is None):
            print(message, flush=True)

    threading.Thread(target=wait, daemon=True).start()


def _stop_gateway_if_backend_exits(server: uvicorn.Server, backend: subprocess.Popen) -> threading.Event:
    """A gateway in front of a dead backend looks healthy and answers every miss with a 502: if the
    backend exits while the gateway runs, say so and stop the gateway (the returned event is set)."""
    died = threading.Event()

    def watch() -> None:
        code = backend.wait()
        if not server.should_exit:
            print(f"semgate: the backend exited with code {code}; stopping the gateway", file=sys.stderr, flush=True)
            died.set()
            server.should_exit = True

    threading.Thread(target=watch, daemon=True).start()
    return died


def _run_until_interrupted(server: uvicorn.Server) -> None:
    # uvicorn shuts down gracefully on Ctrl-C, then re-raises the interrupt: that is the normal way out.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _refuse_taken_ports(config: GatewayConfig) -> None:
    """Stop before starting anything if a port `semgate up` needs is taken: an old backend on the
    backend's port would answer the readiness checks in place of the one we start."""
    ports = [("the gateway's", config.host, config.port)]
    if config.backend.enabled:
        ports.insert(0, ("the backend's", config.backend.host, config.backend.port))
    for role, host, port in ports:
        if port_taken(host, port):
            holders = listeners(port)
            held_by = ", ".join(map(str, holders)) if holders else "another process"
            raise SystemExit(
                f"semgate: {role} port {host}:{port} is already taken by {held_by}. Stop it, or choose "
                "another port in the config (backend.port, listen); semgate up uses only processes "
                "it starts itself."
            )


def _start_backend(config: GatewayConfig) -> subprocess.Popen:
    b = config.backend
    command = [
        sys.executable,
        "-m",
        "gpu_backend",
        "--model",
        b.model,
        "--host",
        b.host,
        "--port",
        str(b.port),
        "--exit-with-parent",
        *b.extra_args,
    ]
    print(f"semgate: starting the bundled backend ({b.model}) on http://{b.host}:{b.port}/v1 ...", flush=True)
    # Own process group: a Ctrl-C reaches us once, and we stop the backend in order. Its stdin is a
    # pipe we hold open until we exit: when we die, however we die, it sees EOF and shuts down
    # (gpu_backend/server/lifecycle.py), instead of living on as an orphan holding the port.
    process = subprocess.Popen(command, start_new_session=True, stdin=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"semgate: the backend exited with code {process.returncode} while starting")
            if _serving(process, b.host, b.port):
                print("semgate: backend ready", flush=True)
                return process
            time.sleep(0.5)
        raise SystemExit("semgate: the backend did not become ready within 600 s")
    except BaseException:  # not ready in time, Ctrl-C or SIGTERM while it loads: it goes too
        _stop(process)
        raise


def _serving(process: subprocess.Popen, host: str, port: int) -> bool:
    """Our backend answers on its port: /healthz says ok and the listener is our process (where
    /proc can tell), not something that took the port after we looked."""
    try:
        if httpx.get(f"http://{host}:{port}/healthz", timeout=1).status_code != 200:
            return False
    except httpx.HTTPError:
        return False
    holders = listeners(port)
    if not holders or any(h.pid == process.pid for h in holders):  # none seen: /proc does not tell us
        return True
    raise SystemExit(
        f"semgate: the backend's port {host}:{port} was taken by "
        f"{', '.join(map(str, holders))} while our backend started"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    sys.exit(main())
