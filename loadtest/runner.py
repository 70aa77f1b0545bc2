"""The load runner: open-loop arrivals at a rate, or closed-loop concurrency, bounded in count and time."""

from __future__ import annotations

import asyncio
import itertools
import math
import sys
import time
from dataclasses import dataclass
from typing import Iterator

import httpx
from tqdm import tqdm

from loadtest.arrivals import ArrivalProcess
from loadtest.client import send_request
from loadtest.records import RequestRecord
from loadtest.target import base_url, require_loopback
from loadtest.workloads.spec import RequestSpec


@dataclass(frozen=True)
class RunConfig:
    """Exactly one of `rate` (open loop) or `concurrency` (closed loop).

    New requests start until `duration_s` or `max_requests`; those in flight then get up to
    `request_timeout_s` more, so a run never lasts longer than duration_s + request_timeout_s.
    """

    target: str
    rate: float | None = None
    concurrency: int | None = None
    cv: float = 1.0
    duration_s: float = 30.0
    max_requests: int = 1000
    request_timeout_s: float = 60.0
    seed: int = 0
    api_key: str | None = None
    allow_remote: bool = False
    max_connections: int = 1024
    progress: bool = True
    label: str = "load"

    def __post_init__(self) -> None:
        if (self.rate is None) == (self.concurrency is None):
            raise ValueError("give exactly one of rate (open loop) or concurrency (closed loop)")
        if self.concurrency is not None and self.concurrency < 1:
            raise ValueError(f"concurrency must be >= 1, got {self.concurrency}")
        if self.duration_s <= 0 or self.max_requests < 1 or self.request_timeout_s <= 0:
            raise ValueError("duration, max_requests and request timeout must be positive")

    @property
    def mode(self) -> str:
        if self.rate is not None:
            return f"open-loop {ArrivalProcess(self.rate, self.cv).kind} at {self.rate:g} req/s"
        return f"closed-loop, {self.concurrency} concurrent"


@dataclass
class RunResult:
    config: RunConfig
    records: list[RequestRecord]
    wall_s: float


class _Run:
    def __init__(self, config: RunConfig, client: httpx.AsyncClient, progress: tqdm) -> None:
        self.config = config
        self.client = client
        self.progress = progress
        self.start = time.perf_counter()
        self.stop_sending = self.start + config.duration_s
        self.end = self.stop_sending + config.request_timeout_s
        self.errors = 0

    async def send(self, index: int, spec: RequestSpec, scheduled_s: float) -> RequestRecord:
        record = RequestRecord(index=index, scheduled_s=scheduled_s, start_s=0.0, endpoint=spec.endpoint,
                               stream=spec.stream, question=spec.question[:200], category=spec.category,
                               group=spec.group)
        await send_request(self.client, spec, record, self.start, self.config.request_timeout_s, self.end)
        self.errors += not record.ok
        self.progress.set_postfix(errors=self.errors, refresh=False)
        self.progress.update()
        return record

    async def open_loop(self, specs: Iterator[RequestSpec]) -> list[RequestRecord]:
        arrivals = ArrivalProcess(self.config.rate, self.config.cv, self.config.seed)
        tasks = []
        for index, (offset, spec) in enumerate(zip(arrivals.send_times(self.config.duration_s, self.config.max_requests), specs)):
            delay = self.start + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.send(index, spec, offset)))
        return list(await asyncio.gather(*tasks))

    async def closed_loop(self, specs: Iterator[RequestSpec]) -> list[RequestRecord]:
        numbered = zip(itertools.count(), itertools.islice(specs, self.config.max_requests))
        records: list[RequestRecord] = []

        async def user() -> None:
            # Each simulated user sends its next request as soon as its previous one finished.
            while time.perf_counter() < self.stop_sending:
                taken = next(numbered, None)
                if taken is None:
                    return
                index, spec = taken
                records.append(await self.send(index, spec, time.perf_counter() - self.start))

        await asyncio.gather(*(user() for _ in range(self.config.concurrency)))
        return sorted(records, key=lambda r: r.index)


def expected_requests(config: RunConfig) -> int | None:
    if config.rate is None:
        return None if config.max_requests >= 10**6 else config.max_requests
    return min(config.max_requests, max(1, math.ceil(config.rate * config.duration_s)))


async def run_load(config: RunConfig, specs: Iterator[RequestSpec]) -> RunResult:
    require_loopback(config.target, config.allow_remote)
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    limits = httpx.Limits(max_connections=config.max_connections, max_keepalive_connections=config.max_connections)
    timeout = httpx.Timeout(config.request_timeout_s)
    with tqdm(total=expected_requests(config), desc=config.label, unit="req", file=sys.stderr,
              disable=not config.progress, dynamic_ncols=True) as progress:
        async with httpx.AsyncClient(base_url=base_url(config.target), headers=headers, limits=limits,
                                     timeout=timeout) as client:
            run = _Run(config, client, progress)
            loop = run.open_loop if config.rate is not None else run.closed_loop
            records = await loop(specs)
    return RunResult(config=config, records=records, wall_s=time.perf_counter() - run.start)


def run_load_sync(config: RunConfig, specs: Iterator[RequestSpec]) -> RunResult:
    return asyncio.run(run_load(config, specs))
