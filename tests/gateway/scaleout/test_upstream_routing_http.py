"""One upstream with two servers (two echo upstreams) behind a real gateway: affinity, failover, load."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gateway_setup import control

from gateway.app import build_app
from gateway.config import parse_config
from loadtest.echo_upstream import EchoSettings, EchoUpstream

SYSTEM = "You are the support assistant of a hardware shop; answer in two sentences. " * 12


@pytest.fixture
def two_servers(serve):
    """Two echo upstreams serving echo-1, each with `.url` and `.server` (its ServerThread)."""
    servers = []
    for _ in range(2):
        upstream = EchoUpstream(EchoSettings(models=("echo-1",)))
        upstream.server = serve(upstream.app)
        upstream.url = upstream.server.url
        servers.append(upstream)
    return servers


@pytest.fixture
def routed_gateway(serve, two_servers):
    config = parse_config(f"""
backend: {{enabled: false}}
cache: {{enabled: false}}
upstreams:
  - name: echo
    base_urls: [{two_servers[0].url}/v1, {two_servers[1].url}/v1]
    models: [echo-1]
    capacity: 4
    health: {{path: /models, interval_s: 0.2}}
    timeouts: {{connect_s: 1, read_s: 10}}
""", "routed.yaml")
    return serve(build_app(config)).url


def ask(url: str, question: str, system: str | None = SYSTEM, stream: bool = False) -> httpx.Response:
    messages = [{"role": "system", "content": system}] if system else []
    body = {"model": "echo-1", "messages": [*messages, {"role": "user", "content": question}], "stream": stream}
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30)


def served(servers) -> list[int]:
    return [s.stats.requests for s in servers]


def test_requests_sharing_a_long_prefix_land_on_one_server(routed_gateway, two_servers):
    for i in range(12):
        assert ask(routed_gateway, f"Do you sell drill bit number {i}?").status_code == 200
    assert sorted(served(two_servers)) == [0, 12]
    for i in range(20):  # other long prefixes spread over both servers
        assert ask(routed_gateway, "Hello?", system=f"Shop number {i}. " + SYSTEM).status_code == 200
    assert min(served(two_servers)) > 0


def test_a_dead_server_fails_over_to_the_other_before_the_first_byte(routed_gateway, two_servers, wait_until):
    dead, alive = two_servers
    dead.server.__exit__(None, None, None)
    for i in range(8):  # different prefixes: some of them belong to the dead server
        response = ask(routed_gateway, "Hello?", system=f"Shop number {i}. " + SYSTEM, stream=i % 2 == 1)
        assert response.status_code == 200 and "Hello?" in response.text
    assert alive.stats.requests == 8
    health = lambda: httpx.get(f"{routed_gateway}/healthz").json()["upstreams"]["echo"]["backends"]  # noqa: E731
    backends, _ = wait_until(lambda: (b := health()) and not b[0]["healthy"] and b)
    assert backends[1]["healthy"]


def test_slow_server_gets_fewer_requests(routed_gateway, two_servers):
    slow, fast = two_servers
    control(slow, first_token_delay_s=0.3)

    def worker(n: int) -> list[int]:
        return [ask(routed_gateway, f"hi {n} {i}", system=None).status_code for i in range(6)]

    with ThreadPoolExecutor(4) as pool:
        statuses = [s for result in pool.map(worker, range(4)) for s in result]
    assert statuses == [200] * 24
    assert fast.stats.requests > 2 * slow.stats.requests
