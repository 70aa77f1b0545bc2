"""Sends one request and measures it: TTFT, gaps between tokens, end-to-end, cache headers, answer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time

import httpx

from loadtest.records import RequestRecord
from gateway.relay.sse import DONE, SSEParser
from loadtest.workloads.spec import RequestSpec


class StreamError(Exception):
    """A failure the stream itself reported; the message is the cause recorded."""


def _content(choice: dict) -> str:
    if "delta" in choice:
        return choice["delta"].get("content") or ""
    if "message" in choice:
        return choice["message"].get("content") or ""
    return choice.get("text") or ""


def _error_cause(error: BaseException) -> str:
    if isinstance(error, StreamError):
        return str(error)
    if isinstance(error, (TimeoutError, httpx.TimeoutException)):
        return "timeout"
    if isinstance(error, httpx.ConnectError):
        return "connect"
    if isinstance(error, (httpx.RemoteProtocolError, httpx.ReadError)):
        return "disconnected"
    if isinstance(error, (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError)):
        return "bad_response"
    return type(error).__name__


class _Measurement:
    """Collects what arrives, timestamped against the request's own send time."""

    def __init__(self, sent_at: float) -> None:
        self.sent_at = sent_at
        self.token_times: list[float] = []
        self.parts: list[str] = []
        self.usage: dict | None = None
        self.finish_reason: str | None = None
        self.done = False

    def take(self, payload: dict, arrived_at: float) -> None:
        if "error" in payload:
            raise StreamError("stream_error")
        for choice in payload.get("choices") or []:
            text = _content(choice)
            if text:
                self.parts.append(text)
                self.token_times.append(arrived_at - self.sent_at)
            self.finish_reason = choice.get("finish_reason") or self.finish_reason
        if payload.get("usage"):
            self.usage = payload["usage"]


async def _read_stream(response: httpx.Response, measured: _Measurement) -> None:
    parser = SSEParser()
    async for chunk in response.aiter_bytes():
        arrived_at = time.perf_counter()
        for event in parser.feed(chunk):
            if event.data.strip() == DONE:
                measured.done = True
                return
            measured.take(json.loads(event.data), arrived_at)
    # An event not closed by a blank line is discarded (WHATWG), so such a stream is incomplete.
    if not measured.done:
        raise StreamError("incomplete_stream")


async def send_request(client: httpx.AsyncClient, spec: RequestSpec, record: RequestRecord,
                       run_start: float, timeout_s: float, run_end: float) -> RequestRecord:
    """Fill `record` with the outcome of sending `spec`; never raises (failures become `record.error`).

    The request gets `timeout_s` in total, cut short when the whole run must end at `run_end`.
    """
    sent_at = time.perf_counter()
    record.start_s = sent_at - run_start
    measured = _Measurement(sent_at)
    cut_by_run_end = run_end < sent_at + timeout_s
    try:
        async with asyncio.timeout(max(0.0, min(sent_at + timeout_s, run_end) - sent_at)):
            async with client.stream("POST", spec.endpoint, json=spec.body()) as response:
                record.status = response.status_code
                record.cache = response.headers.get("x-semgate-cache")
                record.cache_category = response.headers.get("x-semgate-category")
                similarity = response.headers.get("x-semgate-similarity")
                record.similarity = float(similarity) if similarity else None
                if response.status_code != 200:
                    await response.aread()
                    raise StreamError(f"http_{response.status_code}")
                if spec.stream:
                    await _read_stream(response, measured)
                else:
                    measured.take(json.loads(await response.aread()), time.perf_counter())
    except Exception as error:  # every failure is data for the report, not a crash of the run
        record.error = _error_cause(error)
        if record.error == "timeout" and cut_by_run_end and time.perf_counter() >= run_end:
            record.error = "run_deadline"
    finished_at = time.perf_counter()
    _fill(record, spec, measured, finished_at)
    return record


def _fill(record: RequestRecord, spec: RequestSpec, measured: _Measurement, finished_at: float) -> None:
    record.e2e_s = finished_at - measured.sent_at
    times = measured.token_times
    record.ttft_s = times[0] if spec.stream and times else (record.e2e_s if record.ok else None)
    record.token_gaps_s = [round(b - a, 6) for a, b in zip(times, times[1:])]
    usage = measured.usage or {}
    record.prompt_tokens = usage.get("prompt_tokens")
    record.completion_tokens = int(usage.get("completion_tokens") or len(measured.parts))
    if spec.stream and record.completion_tokens > 1 and record.ttft_s is not None:
        record.tpot_s = (record.e2e_s - record.ttft_s) / (record.completion_tokens - 1)
    record.finish_reason = measured.finish_reason
    answer = "".join(measured.parts)
    if record.ok:
        record.answer_digest = hashlib.sha1(answer.encode("utf-8")).hexdigest()
        record.answer_preview = answer[:120]
    record.slo = spec.slo.to_dict() if spec.slo else None
    record.slo_met = record.ok and (spec.slo is None or spec.slo.met_by(record.ttft_s, record.tpot_s, record.e2e_s))
