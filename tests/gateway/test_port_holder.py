"""Telling whether a port is taken and by which process (what `semgate up` says when it refuses)."""

import os
import socket

from gateway.port_holder import listeners, port_taken
from loadtest.services import free_port


def test_a_listening_socket_is_found_with_its_process():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert port_taken("127.0.0.1", port)
        assert port_taken("0.0.0.0", port)  # a wildcard bind collides with it too
        [found] = listeners(port)
        assert found.pid == os.getpid()
        assert "pytest" in found.command and "\0" not in found.command
        assert str(found).startswith(f"pid {os.getpid()} (")


def test_a_free_port_is_free_and_held_by_nobody():
    port = free_port()
    assert not port_taken("127.0.0.1", port)
    assert listeners(port) == []


def test_a_connected_socket_that_does_not_listen_holds_nothing():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname()) as client:
            # The client's own port is in use by a connection, not a listener.
            assert listeners(client.getsockname()[1]) == []
