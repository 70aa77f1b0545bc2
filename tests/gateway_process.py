"""A real `semgate gateway` process for tests that need what only the CLI sets up: the
server's header limits and the log handler. Its stdout and stderr go to one log file."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from gateway_setup import gateway_yaml

from loadtest.services import Services, free_port

REPO = Path(__file__).resolve().parents[1]


@dataclass
class GatewayProcess:
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", errors="backslashreplace")


@pytest.fixture
def gateway_process(tmp_path, echo):
    """start(extra_yaml="", log_level="debug", cache=False) -> GatewayProcess in front of the echo upstream.
    Environment variables the config names must be set (monkeypatch.setenv) before start."""
    with Services(tmp_path / "logs") as services:

        def start(extra: str = "", log_level: str = "debug", name: str = "gateway",
                  cache: bool = False) -> GatewayProcess:
            """`cache`: the cache on, its store in tmp_path."""
            port = free_port()
            config = tmp_path / f"{name}.yaml"
            store = str(tmp_path / f"{name}.db") if cache else None
            config.write_text(gateway_yaml(echo.url, extra, store).replace("127.0.0.1:8080", f"127.0.0.1:{port}"))
            url = services.start(name, ["gateway", "gateway", "--config", str(config), "--log-level", log_level],
                                 port, ready_timeout_s=60, cwd=REPO)
            return GatewayProcess(url, tmp_path / "logs" / f"{name}.log")

        yield start
