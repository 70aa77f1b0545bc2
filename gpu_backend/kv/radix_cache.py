"""Prefix cache: a radix tree over token ids at KV-block granularity (after mini-sglang).

Every edge holds a whole number of blocks: a node's `tokens` has len(blocks) * block_size
ids, and nodes only split at block boundaries, so a partly filled tail block is never
cached. Each salt (e.g. a tenant id) has its own root: different salts never share a
node; the empty salt is the shared tree (KV depends only on the tokens).

Ownership, in allocator references: the tree holds one reference on each block it
caches (taken by `insert`, dropped by `evict`). A sequence that reuses a matched prefix
takes its own reference (`allocator.incref(match.blocks)`) and drops all of its blocks
with `allocator.decref` when it finishes, cached or not. While it uses them it also
`lock`s the match handle so `evict` never picks those nodes (evicting them would free
no memory); it `unlock`s the same handle when done.

Tiers: a subclass may keep an evicted node's KV elsewhere (kv/host_prefix.py keeps it in
host memory). Such a node stays in the tree with no device `blocks` and its `host` range;
its descendants are then off the device too, so a device match never passes it. This
class never creates one; it only stops matching at one and gives it the caller's blocks
when `insert` brings the same tokens back.
"""

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from gpu_backend.errors import KVStateError
from gpu_backend.kv.block_allocator import BlockAllocator
from gpu_backend.kv.host_swap import HostRange


@dataclass(eq=False)
class RadixNode:
    tokens: tuple[int, ...]
    blocks: list[int]
    parent: "RadixNode | None"
    children: dict[tuple[int, ...], "RadixNode"] = field(default_factory=dict)
    lock_ref: int = 0
    last_access: int = 0
    # A copy of this node's KV in host memory (the host tier), or None. With no `blocks`
    # the node lives there only.
    host: HostRange | None = None

    @property
    def is_root(self) -> bool:
        return self.parent is None

    @property
    def up(self) -> "RadixNode":
        """The parent of a node that is not a root."""
        if self.parent is None:
            raise KVStateError("a radix root has no parent")
        return self.parent


@dataclass
class PrefixMatch:
    blocks: list[int]  # cached blocks holding the first num_tokens tokens, in order
    num_tokens: int  # len(blocks) * block_size
    handle: RadixNode  # pass to lock/unlock


@dataclass
class InsertResult:
    blocks: list[int]  # the tree's blocks for the inserted prefix (caller's where new)
    num_tokens: int  # tokens now cached for this sequence: full blocks only
    duplicate_blocks: list[int]  # caller's blocks whose content the tree already held
    handle: RadixNode  # node ending at the inserted prefix, for lock/unlock


@dataclass
class CacheStats:
    queries: int = 0
    hits: int = 0  # queries that matched at least one block
    tokens_asked: int = 0
    tokens_matched: int = 0

    @property
    def token_hit_rate(self) -> float:
        return self.tokens_matched / self.tokens_asked if self.tokens_asked else 0.0


class RadixCache:
    def __init__(self, allocator: BlockAllocator, block_size: int) -> None:
        self.allocator = allocator
        self.block_size = block_size
        self.stats = CacheStats()
        self._roots: dict[str, RadixNode] = {}
        self._clock = 0
        self._cached_blocks = 0
        self._evictable_blocks = 0

    @property
    def cached_blocks(self) -> int:
        return self._cached_blocks

    @property
    def evictable_blocks(self) -> int:
        """Cached blocks no lock protects: what `evict` can give back."""
        return self._evictable_blocks

    @property
    def protected_blocks(self) -> int:
        return self._cached_blocks - self._evictable_blocks

    def match_prefix(self, tokens: Sequence[int], salt: str = "", record: bool = True) -> PrefixMatch:
        """Longest cached full-block prefix of `tokens` under `salt`.

        Takes no reference and no lock. To keep at least one token to compute (for
        logits), pass tokens[:-1]. `record=False` leaves the hit statistics untouched
        (for probes, e.g. a cache-aware scheduler ranking requests).
        """
        key = tuple(tokens)
        node = self._root(salt)
        blocks: list[int] = []
        pos = 0
        while pos + self.block_size <= len(key):
            child = node.children.get(key[pos : pos + self.block_size])
            if child is None or not child.blocks:
                break
            shared = self._shared_blocks(child, key, pos)
            if shared < len(child.blocks):
                child = self._split(child, shared)
            blocks.extend(child.blocks)
            pos += len(child.tokens)
            node = child
        self._touch(node)
        if record:
            self.stats.queries += 1
            self.stats.hits += pos > 0
            self.stats.tokens_asked += len(key)
            self.stats.tokens_matched += pos
        return PrefixMatch(blocks, pos, node)

    def insert(self, tokens: Sequence[int], blocks: Sequence[int], salt: str = "") -> InsertResult:
        """Cache the full-block prefix of a sequence whose K/V for `tokens` sit in `blocks`.

        Only min(len(tokens) // block_size, len(blocks)) blocks are considered. Where the
        tree already holds the same tokens it keeps its own blocks; the caller's blocks at
        those places that differ from the tree's are returned as `duplicate_blocks` (the
        tree takes no reference on them: the caller frees them with its own decref, or
        swaps them for the tree's blocks). New blocks are adopted with one reference each,
        also where the tree knew the tokens but held their KV off the device only.
        """
        num_blocks = min(len(tokens) // self.block_size, len(blocks))
        key = tuple(tokens[: num_blocks * self.block_size])
        node = self._root(salt)
        tree_blocks: list[int] = []
        duplicates: list[int] = []
        index = 0
        while index < num_blocks:
            pos = index * self.block_size
            child = node.children.get(key[pos : pos + self.block_size])
            if child is None:
                new_blocks = list(blocks[index:num_blocks])
                self.allocator.incref(new_blocks)
                child = RadixNode(key[pos:], new_blocks, parent=node)
                node.children[key[pos : pos + self.block_size]] = child
                self._cached_blocks += len(new_blocks)
                self._evictable_blocks += len(new_blocks)
                tree_blocks.extend(new_blocks)
                node = child
                break
            shared = self._shared_blocks(child, key, pos)
            if shared < self._num_blocks(child):
                child = self._split(child, shared)
            mine = blocks[index : index + shared]
            if not child.blocks:
                self._adopt(child, mine)
            duplicates.extend(b for b, theirs in zip(mine, child.blocks, strict=False) if b != theirs)
            tree_blocks.extend(child.blocks)
            index += shared
            node = child
        self._touch(node)
        return InsertResult(tree_blocks, num_blocks * self.block_size, duplicates, node)

    def lock(self, handle: RadixNode) -> None:
        """Protect the path from the root to `handle` from eviction (counted; pair with unlock)."""
        node = handle
        while not node.is_root:
            if node.lock_ref == 0:
                self._evictable_blocks -= len(node.blocks)
            node.lock_ref += 1
            node = node.up

    def unlock(self, handle: RadixNode) -> None:
        node = handle
        while not node.is_root:
            if node.lock_ref <= 0:
                raise KVStateError("unlock of a radix node that is not locked")
            node.lock_ref -= 1
            if node.lock_ref == 0:
                self._evictable_blocks += len(node.blocks)
            node = node.up

    def evict(self, num_blocks: int) -> int:
        """Give up the device blocks of least-recently-used unlocked leaves (nodes with no
        child on the device) until `num_blocks` blocks went back to the allocator (or will,
        once a tier's copy is done) or nothing is evictable; returns that count (whole
        leaves go, so it may exceed the request)."""
        heap = [(n.last_access, id(n), n) for n in self._nodes() if self._evictable_leaf(n)]
        heapq.heapify(heap)
        freed = 0
        while freed < num_blocks and heap:
            _, _, leaf = heapq.heappop(heap)
            self._cached_blocks -= len(leaf.blocks)
            self._evictable_blocks -= len(leaf.blocks)
            freed += self._give_up_blocks(leaf)
            parent = leaf.up
            if self._evictable_leaf(parent):
                heapq.heappush(heap, (parent.last_access, id(parent), parent))
        self._prune_roots()
        return freed

    def _evictable_leaf(self, node: RadixNode) -> bool:
        return (
            not node.is_root
            and bool(node.blocks)
            and node.lock_ref == 0
            and not any(child.blocks for child in node.children.values())
        )

    def _give_up_blocks(self, node: RadixNode) -> int:
        """Drop an evicted node's device blocks; returns how many went back to the allocator.
        Here the node goes with them; a tier below may keep it (kv/host_prefix.py)."""
        freed = len(self.allocator.decref(node.blocks))
        self._remove(node)
        return freed

    def _remove(self, node: RadixNode) -> None:
        """Take `node` (with no device blocks left, or just given up) and its subtree out of the tree."""
        del node.up.children[node.tokens[: self.block_size]]

    def _adopt(self, node: RadixNode, blocks: Sequence[int]) -> None:
        """`node` had its KV off the device: the caller's `blocks` now hold it on the device."""
        node.blocks = list(blocks)
        self.allocator.incref(node.blocks)
        self._cached_blocks += len(node.blocks)
        if node.lock_ref == 0:
            self._evictable_blocks += len(node.blocks)

    def _prune_roots(self) -> None:
        for salt in [s for s, root in self._roots.items() if not root.children]:
            del self._roots[salt]

    def reset_stats(self) -> None:
        self.stats = CacheStats()

    def _root(self, salt: str) -> RadixNode:
        root = self._roots.get(salt)
        if root is None:
            root = self._roots[salt] = RadixNode((), [], parent=None)
        return root

    def _num_blocks(self, node: RadixNode) -> int:
        """Blocks' worth of tokens on `node`'s edge (also when its KV is off the device)."""
        return len(node.tokens) // self.block_size

    def _shared_blocks(self, node: RadixNode, key: tuple[int, ...], pos: int) -> int:
        """Leading blocks of `node` whose tokens equal key[pos:] block by block (>= 1: the
        caller found `node` by its first block)."""
        size = self.block_size
        shared = 1
        while shared < self._num_blocks(node):
            start = shared * size
            wanted = key[pos + start : pos + start + size]
            if len(wanted) < size or node.tokens[start : start + size] != wanted:
                break
            shared += 1
        return shared

    def _split(self, node: RadixNode, num_blocks: int) -> RadixNode:
        """Cut `node` after `num_blocks` blocks; returns the new upper half (same locks, age;
        a host copy is cut at the same place)."""
        cut = num_blocks * self.block_size
        upper = RadixNode(
            node.tokens[:cut],
            node.blocks[:num_blocks],
            node.parent,
            lock_ref=node.lock_ref,
            last_access=node.last_access,
        )
        if node.host is not None:
            upper.host = HostRange(node.host.start, num_blocks)
            node.host = HostRange(node.host.start + num_blocks, node.host.length - num_blocks)
        node.up.children[node.tokens[: self.block_size]] = upper
        node.tokens, node.blocks, node.parent = node.tokens[cut:], node.blocks[num_blocks:], upper
        upper.children[node.tokens[: self.block_size]] = node
        return upper

    def _touch(self, node: RadixNode) -> None:
        self._clock += 1
        on_path: RadixNode | None = node
        while on_path is not None:
            on_path.last_access = self._clock
            on_path = on_path.parent

    def _nodes(self) -> list[RadixNode]:
        stack = [child for root in self._roots.values() for child in root.children.values()]
        nodes = []
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.children.values())
        return nodes
