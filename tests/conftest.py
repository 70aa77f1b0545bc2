"""Fixtures shared by every test package."""

import os

import torch

# Without CUDA, Triton kernels can only run in its interpreter. Triton reads this once, at
# its first import, and transformers imports it as a side effect, so it must be set before
# any test module loads, not by the kernel tests themselves.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402
from gateway_setup import gateway_yaml  # noqa: E402
from loopback import ServerThread  # noqa: E402

from gateway.app import build_app  # noqa: E402
from gateway.config import parse_config  # noqa: E402
from loadtest.echo_upstream import EchoSettings, EchoUpstream  # noqa: E402


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
    """A gateway (cache off) on loopback in front of the echo upstream; returns its base URL."""
    return serve(build_app(parse_config(gateway_yaml(echo.url), "test.yaml"))).url


@pytest.fixture(scope="session")
def embedding_model():
    """all-MiniLM-L6-v2 from its PyPI package, loaded once for the whole run."""
    from gateway.cache.embedder import EmbeddingModel

    return EmbeddingModel()


@pytest.fixture
def cached_gateway(serve, echo, embedding_model, tmp_path):
    """start(extra_yaml="") -> base URL of a gateway with the cache on, its store in tmp_path.
    Starting it again on the same tmp_path is a restart over the same store."""

    def start(extra: str = "") -> str:
        config = parse_config(gateway_yaml(echo.url, extra, store=str(tmp_path / "cache.db")), "test.yaml")
        return serve(build_app(config, embedding_model)).url

    return start


def pytest_terminal_summary(terminalreporter):
    """The docs' commands that tests/test_docs_commands.py ran or skipped, and why: shown without -s or -rs."""
    from docs_commands import RESULTS

    if RESULTS:
        terminalreporter.section("commands from README.md and docs/*.md")
        for command, outcome in RESULTS:
            terminalreporter.write_line(f"{outcome:<48} {command}")
