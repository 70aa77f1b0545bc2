"""Preemption by swapping: a sequence's computed KV goes to the host pool and comes back.

Swap out: the sequence's computed blocks are copied to one contiguous host range. When
the pool is short of blocks (`wait=True`) the copy is waited for and the blocks freed at
once; a fairness preemption (`wait=False`) lets the copy overlap the next step, and a
stand-in keeps the blocks allocated until `poll` sees the copy done.
Swap in (on re-admission): blocks the prefix cache still holds are taken from it, the
rest are allocated and copied back; the sequence runs again once `ready` says so, with
its computed tokens restored instead of recomputed.
"""

import copy
from concurrent.futures import Future
from dataclasses import dataclass

from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.sequence import Sequence
from gpu_backend.errors import SchedulingError
from gpu_backend.kv import HostKVPool, HostRange
from gpu_backend.kv.host_swap import FreeAfterCopy


@dataclass
class SwappedKV:
    host: HostRange
    num_computed_tokens: int
    swap_in: Future | None = None


class Swapper:
    def __init__(self, block_manager: BlockManager, host_pool: HostKVPool) -> None:
        self.block_manager = block_manager
        self.host_pool = host_pool
        self._pending_frees = FreeAfterCopy()  # swapped-out blocks, until their copy is done

    def swap_out(self, seq: Sequence, wait: bool) -> bool:
        """Move `seq`'s computed KV to the host and give its blocks back (now, or once the copy
        is done). False (nothing done) when the host pool has no contiguous room for it."""
        num_blocks = self.block_manager.blocks_for(seq.num_computed_tokens)
        if num_blocks == 0:
            return False
        tier = self.block_manager.host_tier  # shares the host pool: its least recent copies make room
        host = tier.reserve_host(num_blocks) if tier is not None else self.host_pool.reserve(num_blocks)
        if host is None:
            return False
        future = self.host_pool.swap_out(seq.block_table[:num_blocks], host)
        seq.swapped = SwappedKV(host, seq.num_computed_tokens)
        holder = copy.copy(seq)  # keeps the blocks (and its prefix-cache lock) until the copy is done
        holder.token_ids = list(seq.token_ids)
        seq.block_table, seq.cache_handle = [], None
        if wait:
            future.result()
            self.block_manager.release(holder)
        else:
            self._pending_frees.add(future, num_blocks, lambda: self.block_manager.release(holder))
        return True

    def poll(self) -> None:
        """Free the blocks of swap-outs whose copy has finished."""
        self._pending_frees.poll()

    def begin_swap_in(self, seq: Sequence) -> bool:
        """On admission of a swapped sequence (after `match_cached_prefix`): allocate the blocks
        the prefix cache did not supply and start copying them back. False (nothing taken
        beyond the cached prefix) if the pool is short."""
        swapped = seq.swapped
        if swapped is None:
            raise SchedulingError(f"sequence {seq.seq_id} is not swapped out")
        saved_blocks = swapped.host.length
        have = len(seq.block_table)
        if have >= saved_blocks or seq.num_computed_tokens >= swapped.num_computed_tokens:
            self._drop(seq, swapped)
            return True
        if not self.block_manager.reserve(seq, swapped.num_computed_tokens):
            return False
        part = HostRange(swapped.host.start + have, saved_blocks - have)
        swapped.swap_in = self.host_pool.swap_in(part, seq.block_table[have:saved_blocks])
        return True

    def ready(self, seq: Sequence) -> bool:
        """Whether `seq` may run: it is not swapped, or its swap-in has finished (which restores it)."""
        swapped = seq.swapped
        if swapped is None:
            return True
        if swapped.swap_in is None or not swapped.swap_in.done():
            return False
        swapped.swap_in.result()
        seq.num_computed_tokens = swapped.num_computed_tokens
        self._drop(seq, swapped)
        return True

    def settle(self, seq: Sequence) -> None:
        """Finish a swap-in in flight (waiting for it), so `seq` is whole on the device again."""
        if seq.swapped is not None and seq.swapped.swap_in is not None:
            seq.swapped.swap_in.result()
            self.ready(seq)

    def cancel(self, seq: Sequence) -> None:
        """A swapped sequence finishes or is aborted: its host range goes back."""
        if seq.swapped is not None:
            if seq.swapped.swap_in is not None:
                seq.swapped.swap_in.result()
            self._drop(seq, seq.swapped)

    def _drop(self, seq: Sequence, swapped: SwappedKV) -> None:
        self.host_pool.release(swapped.host)
        seq.swapped = None

    def drain(self) -> None:
        """Wait for every swap-out copy and free its blocks."""
        self._pending_frees.settle()


class NoSwap:
    """Preemption by recompute: nothing is ever swapped, so every sequence's KV is ready."""

    def swap_out(self, seq: Sequence, wait: bool) -> bool:
        return False

    def poll(self) -> None:
        pass

    def begin_swap_in(self, seq: Sequence) -> bool:
        raise SchedulingError(f"sequence {seq.seq_id} is swapped out, but preemption recomputes")

    def ready(self, seq: Sequence) -> bool:
        return True

    def settle(self, seq: Sequence) -> None:
        pass

    def cancel(self, seq: Sequence) -> None:
        pass
