"""Fixtures for the scale-out tests: real redis-servers on loopback, and gateway replicas sharing one."""

import time
from dataclasses import dataclass, field

import httpx
import pytest
from gateway_setup import gateway_yaml
from loopback import ServerThread

from gateway.app import build_app
from gateway.config import parse_config
from loadtest.echo_upstream import EchoSettings, EchoUpstream
from loadtest.redis_server import RedisServer, redis_server_path


def _redis(workdir) -> RedisServer:
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed (.ci/run installs the Debian package)")
    return RedisServer(workdir).start()


@pytest.fixture
def redis_server(tmp_path):
    """A fresh redis-server (no persistence) on a free loopback port; `.kill()`, `.restart()`, `.url`."""
    server = _redis(tmp_path / "redis")
    yield server
    server.stop()


@dataclass
class Cluster:
    """Gateway replicas on one Redis in front of one echo upstream. Starting a cache-enabled
    gateway costs seconds (the category classifier is built), so a test module shares one."""

    redis: RedisServer
    echo: EchoUpstream
    model: object
    servers: list[ServerThread] = field(default_factory=list)

    def start_replica(self) -> str:
        config = parse_config(gateway_yaml(self.echo.url, store=self.redis.url), "replica.yaml")
        server = ServerThread(build_app(config, self.model)).__enter__()
        self.servers.append(server)
        return server.url

    def stop_replica(self, url: str) -> None:
        server = next(s for s in self.servers if s.url == url)
        self.servers.remove(server)
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, embedding_model):
    """Two replicas (`cluster.a`, `cluster.b` are their URLs) sharing a module-wide Redis."""
    redis = _redis(tmp_path_factory.mktemp("redis"))
    echo = EchoUpstream(EchoSettings(models=("echo-1",)))
    upstream = ServerThread(echo.app).__enter__()
    echo.url = upstream.url
    cluster = Cluster(redis, echo, embedding_model)
    cluster.a, cluster.b = cluster.start_replica(), cluster.start_replica()
    yield cluster
    for server in reversed(cluster.servers):  # replicas first, then Redis: no errors at shutdown
        server.__exit__(None, None, None)
    upstream.__exit__(None, None, None)
    redis.stop()


@pytest.fixture
def wait_until():
    """wait_until(condition, timeout_s=10) -> (value, seconds): poll until `condition()` is truthy."""

    def poll(condition, timeout_s: float = 10.0, interval_s: float = 0.02):
        started = time.monotonic()
        while True:
            value = condition()
            if value:
                return value, time.monotonic() - started
            if time.monotonic() - started > timeout_s:
                raise AssertionError(f"condition not met within {timeout_s} s")
            time.sleep(interval_s)

    return poll


@pytest.fixture
def health():
    """health(url) -> the replica's /healthz JSON."""
    return lambda url: httpx.get(f"{url}/healthz", timeout=5).json()
