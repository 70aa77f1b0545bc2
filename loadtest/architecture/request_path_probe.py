"""Run inside a tree (PYTHONPATH=TREE, cwd=TREE): the gateway modules one request passes through.

Self-contained on purpose: it imports nothing from the measuring tree, only the measured tree's
`gateway` package, so the code traced is that tree's own. Prints one JSON object on stdout.

    PYTHONPATH=TREE python request_path_probe.py --upstream http://127.0.0.1:PORT --store DIR
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from types import FrameType
from typing import Any

import httpx

WARM_UP = ("What is the boiling point of water at sea level?", "At sea level, what temperature does water boil at?")
QUESTION = "How can I reverse a list in Python?"
PARAPHRASE = "how do I reverse a python list"  # a semantic hit on both trees (tests/.../test_cache_coverage_sdk.py)
_GENERATOR_FLAGS = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR


@dataclass
class PathTrace:
    """Calls into gateway.* code while one request is handled, on the event loop and on worker threads."""

    cache_header: str = ""
    match_header: str = ""
    model_header: str = ""  # x-semgate-model: the model IC-Cache routed to
    runs: list[str] = field(default_factory=list)  # module of each call, consecutive calls in one module merged
    worker_modules: list[str] = field(default_factory=list)  # entered on other threads (embedding, store)


class Recorder:
    """A profile hook: records each new call (not a coroutine's resumption) into a gateway module."""

    def __init__(self) -> None:
        self.trace: PathTrace | None = None
        self.loop_thread = threading.get_ident()
        self.background: set[asyncio.Task[Any]] = set()
        # Generator and coroutine frames already entered, held so that their ids stay unique.
        self.entered: dict[int, FrameType] = {}

    def start(self) -> PathTrace:
        self.entered.clear()
        self.background = asyncio.all_tasks() - {asyncio.current_task()}
        self.trace = PathTrace()
        return self.trace

    def stop(self) -> None:
        self.trace = None
        self.entered.clear()

    def _is_resumption(self, frame: FrameType) -> bool:
        # Each `send` into a coroutine fires "call" again: only its first one enters the module.
        if not frame.f_code.co_flags & _GENERATOR_FLAGS:
            return False
        if id(frame) in self.entered:
            return True
        self.entered[id(frame)] = frame
        return False

    def hook(self, frame: FrameType, event: str, arg: object) -> None:
        trace = self.trace
        if trace is None or event != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("gateway.") or self._is_resumption(frame):
            return
        if threading.get_ident() != self.loop_thread:
            if module not in trace.worker_modules:
                trace.worker_modules.append(module)
            return
        if asyncio.current_task() in self.background:  # health checks, loop-lag probe: not this request
            return
        if not trace.runs or trace.runs[-1] != module:
            trace.runs.append(module)


# IC-Cache on (tests/gateway/incontext/ic_setup.py on both trees): a miss for echo-strong is routed.
ROUTED_MODELS = """
models:
  - {name: echo-strong, tier: strong, serves: echo-1, cost_per_1k_tokens: 1.0, capacity: 1}
  - {name: echo-small, tier: small, serves: echo-1, cost_per_1k_tokens: 0.05}
"""


def gateway_yaml(upstream: str, store: str, routed: bool) -> str:
    # The same config on both trees (tests/gateway_setup.py there): cache on, echo upstream, no backend.
    return (
        (ROUTED_MODELS if routed else "")
        + f"""
listen: 127.0.0.1:8080
backend: {{enabled: false}}
cache: {{enabled: true, store: '{store}/cache.db', policies: config/policies.yaml}}
upstreams:
  - name: echo
    base_url: {upstream}/v1
    models: [echo-1]
"""
    )


def build(upstream: str, store: str, routed: bool) -> Any:
    from gateway.app import build_app
    from gateway.config import parse_config

    return build_app(parse_config(gateway_yaml(upstream, store, routed), "architecture.yaml"))


async def run_lifespan(app: Any) -> tuple[dict[str, Any], Callable[[], Awaitable[None]]]:
    """Starts the app as an ASGI server would and returns its lifespan state and a stop function."""
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "lifespan.startup.complete":
            started.set_result(None)
        elif message["type"] == "lifespan.startup.failed":
            started.set_exception(RuntimeError(message.get("message", "startup failed")))

    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    await started

    async def stop() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        await task

    return state, stop


async def measure(upstream: str, store: str, routed: bool) -> dict[str, Any]:
    app = build(upstream, store, routed)
    model = "echo-strong" if routed else "echo-1"
    state, stop = await run_lifespan(app)

    async def with_state(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope["state"] = dict(state)  # what uvicorn does for every request
        await app(scope, receive, send)

    recorder = Recorder()
    sys.setprofile(recorder.hook)
    threading.setprofile(recorder.hook)
    transport = httpx.ASGITransport(app=with_state)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:

        async def ask(text: str) -> httpx.Response:
            body = {"model": model, "messages": [{"role": "user", "content": text}], "max_tokens": 200}
            response = await client.post("/v1/chat/completions", json=body)
            response.raise_for_status()
            return response

        async def stored(text: str) -> None:  # the entry is written after the answer: wait for it, unrecorded
            for _ in range(50):
                await asyncio.sleep(0.1)
                if (await ask(text)).headers.get("x-semgate-cache") == "hit":
                    return
            raise RuntimeError(f"never stored: {text!r}")

        async def traced(text: str) -> PathTrace:
            trace = recorder.start()
            try:
                response = await ask(text)
            finally:
                recorder.stop()
            trace.cache_header = response.headers.get("x-semgate-cache", "")
            trace.match_header = response.headers.get("x-semgate-match", "")
            trace.model_header = response.headers.get("x-semgate-model", "")
            return trace

        await ask(WARM_UP[0])  # first-request work (lazy imports, warm-up) is not the path
        await stored(WARM_UP[0])
        await ask(WARM_UP[1])
        miss = await traced(QUESTION)
        await stored(QUESTION)
        exact = await traced(QUESTION)
        semantic = await traced(PARAPHRASE)
    sys.setprofile(None)
    threading.setprofile(None)
    await stop()
    return {"semantic_hit": asdict(semantic), "exact_hit": asdict(exact), "miss": asdict(miss)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--routed", action="store_true", help="IC-Cache on: two model entries, asked for echo-strong")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(measure(args.upstream, args.store, args.routed))))


if __name__ == "__main__":
    main()
