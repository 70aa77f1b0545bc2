"""How long the event loop stalls: every request waits behind whatever holds it.

One coroutine asks to be woken every `interval_s` and records how late it was woken; a piece of
CPU work run on the loop (a regex over a long message, a big JSON walk) shows up as a wake-up
that late. /metrics publishes the figures (semgate_event_loop_lag_seconds, a histogram, and
semgate_event_loop_lag_max_seconds, the longest since start); the soak bench reads them.
"""

import asyncio
from collections.abc import Callable


class LoopLagProbe:
    def __init__(self, observe: Callable[[float], None], interval_s: float = 0.01) -> None:
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
