"""The load the gateway reads off an upstream (through the real gateway and the echo upstream): long
answers from one user are not load; requests queueing past the upstream's capacity are, and so is
the queue a backend reports itself."""

import asyncio
import re
import threading
import time
from pathlib import Path

import httpx
from gateway_setup import control, gateway_head
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from gateway.app import build_app
from gateway.config import parse_config
from gateway.upstream.pool import Upstream
from gateway.upstream.load import FirstTokenWatch, QueueProbe, load_sample
from policies.load import NORMAL, OVERLOADED, UpstreamLoad
from policies.schema import LoadSettings

LONG_PROMPT = " ".join(f"word{i}" for i in range(60))  # the echo answers with as many words


def start(serve, echo, embedding_model, tmp_path) -> tuple[str, object]:
    # A quicker half-life than the shipped 5 s, so a few seconds of traffic settle the index.
    policy = re.sub(r"half_life_seconds: 5", "half_life_seconds: 1", Path("config/policies.yaml").read_text())
    (tmp_path / "policies.yaml").write_text(policy)
    text = gateway_head(str(tmp_path / "cache.db")).replace("config/policies.yaml", str(tmp_path / "policies.yaml"))
    text += f"""upstreams:
  - {{name: echo, base_url: {echo.url}/v1, models: [echo-1], capacity: 4, timeouts: {{connect_s: 1, read_s: 30}}}}
"""
    app = build_app(parse_config(text, "test.yaml"), embedding_model)
    return serve(app).url, app


def ask(url: str, content: str, stream: bool) -> None:
    body = {"model": "echo-1", "stream": stream, "max_tokens": 100, "messages": [{"role": "user", "content": content}]}
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=30,
                      headers={"cache-control": "no-cache, no-store"}) as response:
        assert response.status_code == 200
        response.read()


def level(app) -> str:
    state = app.state.cache.layer.adaptive.load_states().get("echo")  # none until the first sample
    return state.level if state is not None else NORMAL


def test_long_generations_at_concurrency_one_read_as_not_loaded(serve, echo, embedding_model, tmp_path):
    url, app = start(serve, echo, embedding_model, tmp_path)
    ask(url, "hi", stream=True)  # a short answer first: the old whole-request baseline came from it
    time.sleep(1.2)  # sampled once a second
    control(echo, token_delay_s=0.02)  # about 1.2 s per answer, one at a time
    for i in range(2):
        ask(url, f"{i} {LONG_PROMPT}", stream=True)
        ask(url, f"{i} {LONG_PROMPT}", stream=False)
    time.sleep(1.2)
    state = app.state.cache.layer.adaptive.load_states()["echo"]
    assert state.level == NORMAL and state.index < 0.5 and state.baseline_first_token_s is not None


def test_many_queued_requests_read_as_loaded(serve, echo, embedding_model, tmp_path):
    url, app = start(serve, echo, embedding_model, tmp_path)
    ask(url, "hi", stream=True)
    control(echo, first_token_delay_s=3.0)
    crowd = [threading.Thread(target=ask, args=(url, f"question {i}", i % 2 == 0)) for i in range(12)]
    for thread in crowd:  # 12 in flight for 4 slots
        thread.start()
    deadline = time.monotonic() + 10
    while level(app) != OVERLOADED and time.monotonic() < deadline:
        time.sleep(0.1)
    assert level(app) == OVERLOADED
    for thread in crowd:
        thread.join()


def test_the_queue_a_backend_reports_counts_where_it_reports_one(serve, echo):
    """Other clients of a shared backend queue there without passing through this gateway."""
    registry = CollectorRegistry()
    waiting = Gauge("semgate_backend_queue_depth", "Requests waiting to be admitted", ["model"], registry=registry)
    waiting.labels("smollm2-135m").set(12)
    backend = Starlette(routes=[Route("/metrics", lambda request: Response(generate_latest(registry)))])
    shared = serve(backend).url
    config = parse_config(gateway_head() + f"""upstreams:
  - {{name: shared, base_url: {shared}/v1, models: [m], capacity: 4}}
  - {{name: hosted, base_url: {echo.url}/v1, models: [echo-1]}}
""", "test.yaml")
    upstreams = [Upstream(u, set(u.models)) for u in config.upstreams]

    async def probe_twice() -> list[int | None]:
        async with httpx.AsyncClient() as client:
            probe = QueueProbe(client)
            first = [await probe.queued(u) for u in upstreams]
            return first + [await probe.queued(u) for u in upstreams]

    assert asyncio.run(probe_twice()) == [12, None, 12, None]  # the echo upstream reports no queue
    tracker = UpstreamLoad(LoadSettings(half_life_seconds=1.0))
    for t in range(5):  # nothing in flight from this gateway, but 12 waiting for 4 slots
        tracker.observe(load_sample(upstreams[0], now=time.monotonic(), queued=12), now=float(t))
    assert tracker.state.level == OVERLOADED


def test_the_first_token_is_the_first_content_not_the_opening_role_chunk():
    config = parse_config(gateway_head() + "upstreams: [{name: u, base_url: 'http://127.0.0.1:9/v1', models: [m]}]\n",
                          "test.yaml")
    upstream = Upstream(config.upstreams[0], {"m"})
    watch = FirstTokenWatch(upstream, httpx.Response(200, extensions={"semgate_started": time.monotonic() - 0.2}))
    watch.feed(b'data: {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}\n\n')
    assert not upstream.stats.first_tokens
    watch.feed(b'data: {"choices": [{"index": 0, "delta": {"content": "Hel')  # split mid-event
    watch.feed(b'lo"}}]}\n\ndata: {"choices": [{"index": 0, "delta": {"content": " there"}}]}\n\n')
    assert len(upstream.stats.first_tokens) == 1 and upstream.stats.first_tokens[0][1] >= 0.2
    broken = FirstTokenWatch(upstream, httpx.Response(200, extensions={"semgate_started": time.monotonic()}))
    broken.feed(b"data: not json\n\ndata: {\"choices\": [{\"text\": \"x\"}]}\n\n")
    assert len(upstream.stats.first_tokens) == 1  # a stream it cannot read gives no sample
