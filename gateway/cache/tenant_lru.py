"""A least-recently-used map split by tenant: bounded per tenant and in total, evicted fairly.

One LRU shared by tenants leaks: whether a key is in it (a hit answers faster than a miss) tells
one tenant what another recently sent. Here a tenant's lookups see only its own part, so its
timings depend on its own traffic alone. Memory is bounded twice: a tenant keeps at most
`per_tenant` items (its own least recently used go first), and all tenants together at most
`total`; when the total is reached, the tenant holding the most items gives up its least
recently used one, so a busy tenant cannot flush a quiet tenant's items while it holds more.
"""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TenantLRU(Generic[K, V]):
    def __init__(self, total: int, per_tenant: int | None = None) -> None:
        if total < 1 or (per_tenant is not None and per_tenant < 1):
            raise ValueError(f"LRU sizes must be >= 1, got total={total}, per_tenant={per_tenant}")
        self.total = total
        self.per_tenant = min(per_tenant or total, total)
        self._parts: dict[str, OrderedDict[K, V]] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def clear(self) -> None:
        self._parts.clear()
        self._size = 0

    def size_of(self, tenant: str) -> int:
        return len(self._parts.get(tenant, ()))

    def get(self, tenant: str, key: K) -> V | None:
        part = self._parts.get(tenant)
        if part is None or key not in part:
            return None
        part.move_to_end(key)
        return part[key]

    def put(self, tenant: str, key: K, value: V) -> None:
        part = self._parts.setdefault(tenant, OrderedDict())
        if key in part:
            part.move_to_end(key)
            part[key] = value
            return
        part[key] = value
        self._size += 1
        if len(part) > self.per_tenant:
            self._evict_from(tenant)
        if self._size > self.total:
            self._evict_from(max(self._parts, key=lambda t: len(self._parts[t])))

    def _evict_from(self, tenant: str) -> None:
        part = self._parts[tenant]
        part.popitem(last=False)
        self._size -= 1
        if not part:
            del self._parts[tenant]
