"""Fixtures shared by every test package."""

import pytest
from loopback import ServerThread


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
