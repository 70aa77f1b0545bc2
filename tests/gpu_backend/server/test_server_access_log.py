"""The backend's access log leaves out a gateway's successful polls and keeps everything else."""

import logging

from gpu_backend.server.access_log import QuietPolls


def logged(method: str, path: str, status: int) -> bool:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", method, path, "1.1", status), None)
    return QuietPolls().filter(record)


def test_successful_polls_are_left_out():
    assert not logged("GET", "/metrics", 200)
    assert not logged("GET", "/healthz", 200)
    assert not logged("GET", "/healthz?deep=1", 200)


def test_requests_and_failed_polls_are_kept():
    assert logged("POST", "/v1/chat/completions", 200)
    assert logged("GET", "/v1/models", 200)
    assert logged("GET", "/healthz", 503)
    assert logged("GET", "/metricsx", 200)
    other = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process [%d]", (1,), None)
    assert QuietPolls().filter(other)
