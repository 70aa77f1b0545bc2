"""Cancellation: a client that goes away (or a gateway that times out) and a backend that shuts
down end the generation at once and free its KV blocks, with one log line: never an exception, a
traceback or a 500 (the gateway reads a 500 as a failing backend)."""

import asyncio
import contextlib
import json
import logging
import threading
import time

import httpx
import orjson
import pytest
import uvicorn
from loopback import free_port

from gpu_backend.build import build_from_loaded
from gpu_backend.engine import AsyncEngine, EngineConfig, LLMEngine
from gpu_backend.server import BackendService, build_app
from gpu_backend.server.lifecycle import BackendServer

MODEL = "smollm2-135m"
LONG = {"model": MODEL, "prompt": "Count to a thousand:", "max_tokens": 1000, "ignore_eos": True}


@pytest.fixture
def service(smollm2):
    engine = AsyncEngine(build_from_loaded(smollm2, EngineConfig(kv_budget_bytes=128 << 20)))
    return BackendService(engine, smollm2.tokenizer, smollm2.chat_template, (MODEL,))


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO)
    # uvicorn's own loggers stop at "uvicorn" once any server in this session configured logging.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(logging.getLogger("uvicorn"), "propagate", True)
        yield caplog


class HandDrivenClient:
    """One HTTP request through the ASGI interface, whose client goes away when the test says."""

    def __init__(self, body: dict) -> None:
        self.body = orjson.dumps(body)
        self.gone = asyncio.Event()
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if self.body:
            body, self.body = self.body, b""
            return {"type": "http.request", "body": body, "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    def call(self, app, path: str) -> asyncio.Task:
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                 "root_path": "", "headers": [(b"content-type", b"application/json")],
                 "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8001)}
        return asyncio.create_task(app(scope, self.receive, self.send))


async def until(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


def wait_for(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@contextlib.asynccontextmanager
async def running(service: BackendService):
    service.engine.start()
    try:
        yield service.engine.engine
    finally:
        service.engine.stop()


def assert_freed_and_logged_once(inner: LLMEngine, logs) -> None:
    assert inner.stats.aborted_requests == 1
    # Only the prefix cache still holds blocks, and it holds them unlocked (evictable).
    radix = inner.block_manager.radix
    assert inner.pool.allocator.num_used == radix.cached_blocks == radix.evictable_blocks
    assert len([r for r in logs.records if "the client went away" in r.getMessage()]) == 1
    assert not [r for r in logs.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_json_client_that_goes_away_cancels_its_generation_with_a_499(service, logs):
    client = HandDrivenClient(LONG)
    async with running(service) as inner:
        call = client.call(build_app(service), "/v1/completions")
        await until(lambda: inner.stats.generated_tokens > 0)
        client.gone.set()
        await asyncio.wait_for(call, 60)  # raises whatever the app raised
        await until(lambda: not inner.has_unfinished())
    assert client.sent[0]["status"] == 499
    assert_freed_and_logged_once(inner, logs)


async def test_a_streaming_client_that_goes_away_cancels_its_generation(service, logs):
    client = HandDrivenClient({**LONG, "stream": True})
    async with running(service) as inner:
        call = client.call(build_app(service), "/v1/completions")
        await until(lambda: any(m.get("body") for m in client.sent))
        client.gone.set()
        await asyncio.wait_for(call, 60)
        await until(lambda: not inner.has_unfinished())
    assert client.sent[0]["status"] == 200
    assert_freed_and_logged_once(inner, logs)


def test_a_shutdown_ends_the_requests_in_flight_at_once(service, logs):
    port = free_port()
    server = BackendServer(uvicorn.Config(build_app(service), host="127.0.0.1", port=port, log_config=None,
                                          lifespan="on"), service.engine)
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{port}/v1/completions"
    answers: dict[str, object] = {}

    def ask_json() -> None:
        answers["json"] = httpx.post(url, json=LONG, timeout=120)

    def ask_stream() -> None:
        with httpx.stream("POST", url, json={**LONG, "stream": True}, timeout=120) as response:
            answers["stream"] = [line for line in response.iter_lines() if line.startswith("data: ")]

    wait_for(lambda: server.started)
    asking = [threading.Thread(target=ask, daemon=True) for ask in (ask_json, ask_stream)]
    for thread in asking:
        thread.start()
    wait_for(lambda: len(service.engine.engine.scheduler.running) == 2)
    server.should_exit = True  # what uvicorn does on SIGTERM or Ctrl-C
    # Unfinished, each request would hold the shutdown for hundreds of tokens.
    serving.join(timeout=60)
    for thread in asking:
        thread.join(timeout=10)
    assert not serving.is_alive()
    assert answers["json"].status_code == 503
    assert answers["json"].json()["error"]["type"] == "server_error"
    *_, last = answers["stream"]
    assert json.loads(last[len("data: "):])["error"]["type"] == "server_error"
    assert not [r for r in logs.records if r.levelno >= logging.ERROR or r.exc_info]
