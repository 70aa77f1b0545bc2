"""How long the event loop stalls: every request waits behind whatever holds it.

One coroutine asks to be woken every `interval_s` and records how late it was woken; a piece of
CPU work run on the loop (a regex over a long message, a big JSON walk) shows up as a wake-up
that late. /metrics publishes the figures (semgate_event_loop_lag_seconds, a histogram, and
semgate_event_loop_lag_max_seconds, the longest since start); the soak bench reads them.

Every 100 ms, not more often: each wake-up takes a core for a moment, and beside a CPU backend
(`semgate up`) a hundred of them a second cost the backend's lockstep matmul threads more than
the gateway's own work (gateway/cpu_share.py). A stall of S ms is still seen at a wake-up it
overlaps (always when S >= 100; with probability S/100 otherwise), late by up to S.
"""

import asyncio
from collections.abc import Callable


class LoopLagProbe:
    def __init__(self, observe: Callable[[float], None], interval_s: float = 0.1) -> None:
        self.observe = observe
        self.interval_s = interval_s
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.interval_s)
            self.observe(max(loop.time() - asked - self.interval_s, 0.0))
