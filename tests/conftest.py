"""Fixtures shared by every test package."""

import pytest
from gateway_setup import gateway_yaml
from loopback import ServerThread

from gateway.app import build_app
from gateway.config import parse_config
from loadtest.echo_upstream import EchoSettings, EchoUpstream


@pytest.fixture
def serve():
    """serve(app) -> a started ServerThread; stopped at the end of the test."""
    started: list[ServerThread] = []

    def _serve(app, port: int | None = None) -> ServerThread:
        server = ServerThread(app, port).__enter__()
        started.append(server)
        return server

    yield _serve
    for server in reversed(started):
        server.__exit__(None, None, None)


@pytest.fixture
def echo(serve):
    """The deterministic echo upstream on loopback; `.url` is its base URL."""
    upstream = EchoUpstream(EchoSettings(models=("echo-1",)))
    upstream.url = serve(upstream.app).url
    return upstream


@pytest.fixture
def gateway(serve, echo):
    """A gateway on loopback in front of the echo upstream; returns its base URL."""
    return serve(build_app(parse_config(gateway_yaml(echo.url), "test.yaml"))).url
