"""The host tier under the radix prefix cache: evicted prefixes wait in host memory.

Without it, a prefix evicted from the device pool is gone, and a conversation's next turn
(its prompt: the previous prompt, the answer, a new message) computes its whole history
again. With it (FastSwitch's reuse across turns), evicting a node copies its blocks to
ONE contiguous range of the host pool (kv/host_swap.py: one copy per run of consecutive
device blocks, on the swap worker) and the node stays in the tree, on the host only. Its
device blocks are held until the copy is done (`poll` frees them; `settle` waits), so a
block is never reused while its KV is still being read.

A later prompt whose cached prefix runs on into host-only nodes gets them back: the
engine allocates device blocks, `fetch` copies the ranges in, and once the sequence
inserts the fetched blocks the nodes are on the device again (keeping their host copy,
so evicting them a second time costs no copy). Host-only nodes never sit above device
ones, salts stay apart exactly as on the device (each salt its own root), and the host
budget is shared with swapped-out sequences: when it is full the least recently used
host copies go (whole host-only leaves, or the host copy of a node still on the device).

Copies in and out run in the order asked on one worker, so a host range released and
handed out again is overwritten only after every copy already queued from it.
"""

import heapq
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from gpu_backend.errors import KVStateError
from gpu_backend.kv.block_allocator import BlockAllocator
from gpu_backend.kv.host_swap import FreeAfterCopy, HostKVPool, HostRange, SwapStats
from gpu_backend.kv.radix_cache import PrefixMatch, RadixCache, RadixNode


@dataclass
class HostTierStats:
    hits: int = 0  # prompts whose cached prefix continued on the host
    tokens_reused: int = 0  # prompt tokens whose KV came back from the host
    nodes_saved: int = 0  # evicted nodes copied to the host
    blocks_saved: int = 0
    blocks_dropped: int = 0  # host copies given up when the host budget was full
    copies: SwapStats = field(default_factory=SwapStats)  # bytes and seconds: out = saves, in = fetches


@dataclass
class HostMatch:
    ranges: list[HostRange]  # host ranges holding the tokens after the device match, in order
    num_tokens: int  # tokens they hold (whole blocks)
    handle: RadixNode  # the deepest node used (lock it to keep the ranges from being dropped)


class TieredRadixCache(RadixCache):
    def __init__(self, allocator: BlockAllocator, block_size: int, host_pool: HostKVPool) -> None:
        if host_pool.device_pool.block_size != block_size:
            raise KVStateError("the host pool's blocks must be the device pool's")
        super().__init__(allocator, block_size)
        self.host_pool = host_pool
        self.host_stats = HostTierStats()
        self._host_blocks = 0
        self._saving = FreeAfterCopy()  # evicted blocks read by their copy to the host

    @property
    def host_blocks(self) -> int:
        """Host blocks holding cached prefixes (host-only nodes and copies of device ones)."""
        return self._host_blocks

    @property
    def saving_blocks(self) -> int:
        """Device blocks given up by eviction but still read by a copy to the host."""
        return self._saving.num_blocks

    def match_host(self, tokens: Sequence[int], after: PrefixMatch) -> HostMatch:
        """The host-only nodes continuing the device match `after` of the same `tokens`
        (pass the same tokens[:-1]). Takes no lock and changes nothing."""
        key = tuple(tokens)
        node, pos = after.handle, after.num_tokens
        ranges: list[HostRange] = []
        while pos + self.block_size <= len(key):
            child = node.children.get(key[pos : pos + self.block_size])
            if child is None or child.blocks or child.host is None:  # no host-only node continues it
                break
            shared = self._shared_blocks(child, key, pos)
            ranges.append(HostRange(child.host.start, shared))
            pos += shared * self.block_size
            node = child
            if shared < self._num_blocks(child):
                break
        return HostMatch(ranges, pos - after.num_tokens, node)

    def fetch(self, found: HostMatch, device_blocks: list[int]) -> list[Future]:
        """Copy `found`'s ranges into `device_blocks` (as many, in order); one future per range.
        The caller holds a lock on `found.handle` until it has inserted the blocks."""
        if sum(r.length for r in found.ranges) != len(device_blocks):
            raise KVStateError("the device blocks must match the host ranges block for block")
        futures, index = [], 0
        for taken in found.ranges:
            futures.append(
                self.host_pool.swap_in(taken, device_blocks[index : index + taken.length], self.host_stats.copies)
            )
            index += taken.length
        self.host_stats.hits += 1
        self.host_stats.tokens_reused += found.num_tokens
        self._touch(found.handle)
        return futures

    def reserve_host(self, num_blocks: int) -> HostRange | None:
        """A contiguous host range, dropping least recently used host copies until one fits
        (None: not even then). Swapped-out sequences take theirs through here too."""
        taken = self.host_pool.reserve(num_blocks)
        if taken is not None:
            return taken
        heap = [(n.last_access, id(n), n) for n in self._nodes() if self._droppable(n)]
        heapq.heapify(heap)
        while taken is None and heap:
            _, _, node = heapq.heappop(heap)
            self._release_host(node)
            if not node.blocks:
                parent = node.up
                self._remove(node)
                if self._droppable(parent):
                    heapq.heappush(heap, (parent.last_access, id(parent), parent))
            taken = self.host_pool.reserve(num_blocks)
        self._prune_roots()
        return taken

    def poll(self) -> None:
        """Free the device blocks of copies to the host that have finished."""
        self._saving.poll()

    def settle(self) -> None:
        """Wait for every copy to the host and free its device blocks."""
        self._saving.settle()

    def _give_up_blocks(self, node: RadixNode) -> int:
        """Keep the evicted node on the host: copy its blocks there first (unless a copy is
        there already); without host room it goes, as in the plain cache."""
        blocks = node.blocks
        if node.host is None:
            node.host = self.reserve_host(len(blocks))
            if node.host is None:
                return super()._give_up_blocks(node)
            self._host_blocks += len(blocks)
            copy = self.host_pool.swap_out(blocks, node.host, self.host_stats.copies)
            self._saving.add(copy, len(blocks), lambda: self.allocator.decref(blocks))
            self.host_stats.nodes_saved += 1
            self.host_stats.blocks_saved += len(blocks)
            freed = sum(self.allocator.ref_count(b) == 1 for b in blocks)  # once the copy is done
        else:
            freed = len(self.allocator.decref(blocks))
        node.blocks = []
        return freed

    def _remove(self, node: RadixNode) -> None:
        stack = list(node.children.values())
        while stack:  # its descendants are host-only: their ranges go back
            below = stack.pop()
            self._release_host(below)
            stack.extend(below.children.values())
        self._release_host(node)
        super()._remove(node)

    def _droppable(self, node: RadixNode) -> bool:
        """A host copy that may go: a device node's copy, or an unlocked host-only leaf."""
        return node.host is not None and (bool(node.blocks) or (not node.children and node.lock_ref == 0))

    def _release_host(self, node: RadixNode) -> None:
        if node.host is not None:
            self.host_pool.release(node.host)
            self._host_blocks -= node.host.length
            self.host_stats.blocks_dropped += node.host.length
            node.host = None
