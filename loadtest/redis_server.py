"""A throwaway redis-server on a loopback port, for tests and benchmarks (Debian package `redis-server`).

No persistence (`--save ''`, `--appendonly no`): killing it loses its data, as a Redis
without persistence does in production; `restart()` brings back an empty one on the same port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path


def redis_server_path() -> str | None:
    return shutil.which("redis-server") or next((p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server")
                                                 if Path(p).exists()), None)


class RedisServer:
    def __init__(self, workdir: Path, port: int | None = None) -> None:
        binary = redis_server_path()
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.workdir = workdir
        self._may_move = port is None  # a free port we picked may be taken before we bind it: pick another
        self.port = port or _free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> RedisServer:
        """Start (or restart, on the same port) and wait until it answers."""
        for _ in range(3):
            if self._launch():
                self._may_move = False  # from now on, restarts keep this port
                return self
            if not self._may_move:
                break
            self.port = _free_port()
        raise RuntimeError(f"redis-server on port {self.port} did not start; see {self.workdir}")

    def _launch(self) -> bool:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        # Another process may have taken the port meanwhile: only our own server's answer counts.
        while self._answering_pid() != self.process.pid:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                return False
            time.sleep(0.02)
        return True

    def kill(self) -> None:
        """SIGKILL: the abrupt loss of Redis that replicas must survive."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> RedisServer:
        self.kill()
        return self.start()

    def _answering_pid(self) -> int | None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"INFO server\r\n")
                reply = b""
                while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        return None
                    reply += chunk
        except OSError:
            return None
        line = reply.split(b"process_id:", 1)[1].split(b"\r\n", 1)[0]
        return int(line)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
