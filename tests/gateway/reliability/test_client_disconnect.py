"""A client that goes away before its (non-streamed) answer cancels the upstream request, as a
streaming one does, and neither that nor an upstream's 499 counts against the upstream."""

import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from gateway.app import build_app
from gateway.config import parse_config
from loadtest.hostile_upstream import HostileUpstream


def config_for(url: str, models: str) -> str:
    return f"""
listen: 127.0.0.1:8080
backend: {{enabled: false}}
cache: {{enabled: false}}
upstreams:
  - name: up
    base_url: {url}/v1
    models: [{models}]
    timeouts: {{connect_s: 1, read_s: 30}}
    retries: 0
    circuit_breaker: {{failures: 3, cooldown_s: 30}}
"""


@pytest.fixture
def slow(serve):
    upstream = HostileUpstream(slow_s=6)
    app = build_app(parse_config(config_for(serve(upstream.app).url, "slow-1"), "t.yaml"))
    return serve(app).url, app, upstream


def leave_early(url: str, stream: bool) -> None:
    body = {"model": "slow-1", "messages": [{"role": "user", "content": "take your time"}], "stream": stream}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{url}/v1/chat/completions", json=body, timeout=httpx.Timeout(10, read=0.3))


def wait_for(condition, seconds: float = 4.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("stream", [False, True])
def test_a_client_that_leaves_cancels_the_upstream_request(slow, stream):
    url, _, upstream = slow
    leave_early(url, stream)
    # The upstream would answer after 6 s: it is told well before that the request went away.
    assert wait_for(lambda: upstream.stats.gone == 1), upstream.stats
    assert upstream.stats.answered == 0


def test_clients_leaving_never_open_the_circuit_nor_count_as_upstream_errors(slow):
    url, app, upstream = slow
    for _ in range(4):  # more than the breaker's 3 failures
        leave_early(url, stream=False)
    assert wait_for(lambda: upstream.stats.gone == 4), upstream.stats
    [up] = app.state.pool.upstreams
    assert wait_for(lambda: up.stats.in_flight == 0)
    assert up.breaker.state == "closed" and up.stats.errors == 0 and up.stats.cancelled == 4


def test_an_upstream_that_answers_499_is_a_502_for_the_client_but_no_fault(serve):
    async def cancelled(request):
        return Response(b'{"error": {"message": "client closed request", "type": "cancelled"}}', status_code=499)

    upstream = Starlette(routes=[Route("/v1/chat/completions", cancelled, methods=["POST"])])
    app = build_app(parse_config(config_for(serve(upstream).url, "m"), "t.yaml"))
    url = serve(app).url
    for _ in range(4):
        response = httpx.post(f"{url}/v1/chat/completions", json={"model": "m", "messages": [
            {"role": "user", "content": "hi"}]})
        assert response.status_code == 502 and response.json()["error"]["code"] == "upstream_cancelled"
    [up] = app.state.pool.upstreams
    assert up.breaker.state == "closed" and up.stats.errors == 0
