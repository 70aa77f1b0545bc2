"""Helpers for the reliability tests: an echo upstream that can be stopped and started again on
the same port, the gateway config in front of it, and requests as a client sends them."""

import sqlite3
from pathlib import Path

import httpx
from loopback import ServerThread, free_port

from loadtest.echo_upstream import EchoSettings, EchoUpstream

SHIPPED_POLICIES = Path("config/policies.yaml")


class Upstream:
    """The echo upstream on a fixed port: `stop()` takes it down (connections refused), `start()` brings it back."""

    def __init__(self) -> None:
        self.echo = EchoUpstream(EchoSettings(models=("echo-1",)))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: ServerThread | None = None

    @property
    def requests(self) -> int:
        return self.echo.stats.requests

    def start(self) -> None:
        self.server = ServerThread(self.echo.app, self.port).__enter__()

    def stop(self) -> None:
        if self.server is not None:
            self.server.__exit__(None, None, None)
            self.server = None

    def control(self, **settings) -> None:
        httpx.post(f"{self.url}/_echo/control", json=settings).raise_for_status()


def gateway_config(upstream_url: str, store: Path, policies: Path = SHIPPED_POLICIES, breaker: str = "{}",
                   read_s: float = 2, retries: int = 0, extra: str = "", cache: str = "") -> str:
    """`cache`: more fields of the cache section, e.g. embed_timeout_s: 0.2"""
    return f"""
listen: 127.0.0.1:8080
backend: {{enabled: false}}
cache: {{enabled: true, store: '{store}', policies: '{policies}', {cache}}}
upstreams:
  - name: echo
    base_url: {upstream_url}/v1
    models: [echo-1]
    timeouts: {{connect_s: 1, read_s: {read_s}}}
    retries: {retries}
    circuit_breaker: {breaker}
{extra}
"""


def ask(url: str, content: str, *, key: str | None = None, headers: dict | None = None, **body) -> httpx.Response:
    auth = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{url}/v1/chat/completions",
                      json={"model": "echo-1", "messages": [{"role": "user", "content": content}], **body},
                      headers={**auth, **(headers or {})}, timeout=30)


def answer(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]["message"]["content"]


def stored_questions(app) -> list[str]:
    """The question of every entry in the store, read through a fresh connection to its file."""
    path = app.state.config.cache.store_path
    with sqlite3.connect(path) as db:
        return sorted(row[0] for row in db.execute("SELECT query_text FROM entries"))
