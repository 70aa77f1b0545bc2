"""The loop-lag probe sees a stall of the event loop (work run on it that blocks every request)."""

import asyncio
import time

from gateway.observe.loop_lag import LoopLagProbe


async def test_a_blocked_loop_is_measured_as_at_least_the_block():
    lags: list[float] = []
    probe = LoopLagProbe(lags.append, interval_s=0.01)
    probe.start()
    await asyncio.sleep(0.05)
    time.sleep(0.3)  # CPU work on the loop: nothing else runs meanwhile
    await asyncio.sleep(0.05)
    await probe.stop()
    # The probe could only be woken after the block: one wake-up came at least most of it late.
    assert len(lags) >= 3 and max(lags) >= 0.25
    assert all(lag >= 0 for lag in lags)
