"""LLMEngine on a background thread, with an async token stream per request.

The engine thread owns the engine: callers never touch it directly but post commands
(add, abort, a function to run on the engine: `call`) to an inbox it drains between
steps. Outputs go back to each caller's asyncio queue through `loop.call_soon_threadsafe`.
While nothing is pending the thread sleeps on the inbox. The model's matmuls release the
GIL, so the event loop keeps serving HTTP while a step runs.
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Self

from gpu_backend.engine.engine import LLMEngine, RequestOutput
from gpu_backend.engine.phase_split.engine import PhaseSplitEngine
from gpu_backend.engine.sampling_params import SamplingParams
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.errors import EngineStopped

log = logging.getLogger(__name__)

# What the builder makes (gpu_backend/build.py): the core engine, or the phase split driving one.
Engine = LLMEngine | PhaseSplitEngine


class RequestStream:
    """The outputs of one request, as an async iterator; leaving `async with` early aborts it."""

    def __init__(self, seq_id: int, engine: "AsyncEngine", loop: asyncio.AbstractEventLoop) -> None:
        self.seq_id = seq_id
        self.loop = loop
        self._engine = engine
        self._queue: asyncio.Queue[RequestOutput | BaseException] = asyncio.Queue()
        self.finished = False

    def put(self, item: RequestOutput | BaseException) -> None:
        """Called from the engine thread."""
        self.loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def __aiter__(self) -> "RequestStream":
        return self

    async def __anext__(self) -> RequestOutput:
        if self.finished:
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, BaseException):
            self.finished = True
            raise item
        self.finished = item.finished
        return item

    def abort(self) -> None:
        if not self.finished:
            self.finished = True
            self._engine.abort(self.seq_id)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.abort()


@dataclass
class _Add:
    seq_id: int
    prompt_token_ids: list[int]
    params: SamplingParams
    stream: RequestStream
    slo: RequestSLO | None = None
    tenant: str = ""
    chunk_spans: list[tuple[int, int]] | None = None
    # Further samples of the prompt (n > 1): they share its prefill (engine/fork.py).
    siblings: list[tuple[RequestStream, SamplingParams]] = field(default_factory=list)


@dataclass
class _Abort:
    seq_id: int


@dataclass
class _Call:
    fn: Callable[[Engine], Any]
    result: Future


class _Stop:
    pass


class AsyncEngine:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._inbox: queue.SimpleQueue[_Add | _Abort | _Call | _Stop] = queue.SimpleQueue()
        self._streams: dict[int, RequestStream] = {}  # engine thread only
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="semgate-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._post(_Stop())
            self._thread.join()
            self._thread = None

    def submit(
        self,
        prompt_token_ids: list[int],
        params: SamplingParams,
        slo: RequestSLO | None = None,
        tenant: str = "",
        chunk_spans: list[tuple[int, int]] | None = None,
    ) -> RequestStream:
        """Queue a request; raises ValueError at once if it can never run, RuntimeError once the
        engine has stopped (nobody would run it). Call on the event loop."""
        return self.submit_samples(prompt_token_ids, [params], slo, tenant, chunk_spans)[0]

    def submit_samples(
        self,
        prompt_token_ids: list[int],
        params: list[SamplingParams],
        slo: RequestSLO | None = None,
        tenant: str = "",
        chunk_spans: list[tuple[int, int]] | None = None,
    ) -> list[RequestStream]:
        """Like `submit`, for several samples of one prompt (one params each), prefilled once."""
        if self._thread is None:
            raise EngineStopped("the engine is not running")
        for p in params:
            self.engine.check_request(prompt_token_ids, p)
        loop = asyncio.get_running_loop()
        streams = [RequestStream(self.engine.new_seq_id(), self, loop) for _ in params]
        self._post(
            _Add(
                streams[0].seq_id,
                list(prompt_token_ids),
                params[0],
                streams[0],
                slo,
                tenant,
                chunk_spans,
                list(zip(streams[1:], params[1:], strict=True)),
            )
        )
        return streams

    def abort(self, seq_id: int) -> None:
        """Cancel a request (from any thread); the engine frees its blocks before its next step."""
        self._post(_Abort(seq_id))

    async def call(self, fn: Callable[[Engine], Any]) -> Any:
        """Run `fn(engine)` on the engine thread between two steps and return its result (or
        raise its exception). Call on the event loop, while the engine runs."""
        if self._thread is None:
            raise EngineStopped("the engine is not running")
        result: Future = Future()
        self._post(_Call(fn, result))
        return await asyncio.wrap_future(result)

    def _post(self, command: "_Add | _Abort | _Call | _Stop") -> None:
        self._inbox.put(command)

    @property
    def num_queued(self) -> int:
        """Requests not yet running: still in the inbox or waiting in the scheduler."""
        return self._inbox.qsize() + len(self.engine.scheduler.waiting)

    def _run(self) -> None:
        while self._drain_inbox(block=not self.engine.has_unfinished()):
            try:
                outputs = self.engine.step()
            except Exception as error:  # a failed step must not leave clients hanging
                log.exception("engine step failed; failing its requests")
                self._fail_all(error)
                continue
            for output in outputs:
                stream = self._streams.get(output.seq_id)
                if stream is None:
                    continue
                if output.finished:
                    del self._streams[output.seq_id]
                stream.put(output)
        self._fail_all(RuntimeError("the engine stopped"))
        while not self._inbox.empty():  # posted after the stop: nobody will run them
            command = self._inbox.get_nowait()
            if isinstance(command, _Call):
                command.result.set_exception(RuntimeError("the engine stopped"))

    def _drain_inbox(self, block: bool) -> bool:
        """Apply pending commands (waiting for one if `block`); False once told to stop."""
        try:
            command = self._inbox.get(block=block)
        except queue.Empty:
            return True
        while True:
            if isinstance(command, _Stop):
                return False
            if isinstance(command, _Add):
                self._add(command)
            elif isinstance(command, _Call):
                self._call(command)
            elif self._streams.pop(command.seq_id, None) is not None:
                self.engine.abort(command.seq_id)
            try:
                command = self._inbox.get_nowait()
            except queue.Empty:
                return True

    def _add(self, command: _Add) -> None:
        streams = [command.stream, *(stream for stream, _ in command.siblings)]
        try:
            self.engine.add_request(
                command.prompt_token_ids,
                command.params,
                command.seq_id,
                command.slo,
                command.tenant,
                command.chunk_spans,
                [(stream.seq_id, params) for stream, params in command.siblings],
            )
        except ValueError as error:
            for stream in streams:
                stream.put(error)
            return
        for stream in streams:
            self._streams[stream.seq_id] = stream

    def _call(self, command: _Call) -> None:
        try:
            command.result.set_result(command.fn(self.engine))
        except Exception as error:  # noqa: BLE001 - it goes back to the caller
            command.result.set_exception(error)

    def _fail_all(self, error: Exception) -> None:
        for seq_id, stream in list(self._streams.items()):
            self.engine.abort(seq_id)
            stream.put(error)
        self._streams.clear()
