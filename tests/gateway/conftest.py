import pytest

from gateway.app import build_app
from gateway.config import parse_config
from gateway_setup import gateway_yaml
from loadtest.echo_upstream import EchoSettings, EchoUpstream


@pytest.fixture
def echo(serve):
    upstream = EchoUpstream(EchoSettings(models=("echo-1",)))
    server = serve(upstream.app)
    upstream.url = server.url
    return upstream


@pytest.fixture
def gateway(serve, echo):
    """A gateway on loopback in front of the echo upstream; returns its base URL."""
    config = parse_config(gateway_yaml(echo.url), "test.yaml")
    return serve(build_app(config)).url
