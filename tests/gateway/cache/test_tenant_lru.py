"""The per-tenant LRU: a tenant sees only its own items; memory is bounded per tenant and in total."""

import pytest

from gateway.cache.tenant_lru import TenantLRU


def test_a_tenant_sees_only_its_own_items():
    lru = TenantLRU(total=8)
    lru.put("alice", "q", 1)
    assert lru.get("alice", "q") == 1 and lru.get("bob", "q") is None


def test_a_tenant_past_its_bound_loses_its_own_least_recently_used():
    lru = TenantLRU(total=8, per_tenant=2)
    lru.put("alice", "a", 1)
    lru.put("alice", "b", 2)
    lru.get("alice", "a")  # used again: "b" is now the oldest
    lru.put("alice", "c", 3)
    assert (lru.get("alice", "a"), lru.get("alice", "b"), lru.get("alice", "c")) == (1, None, 3)
    assert len(lru) == 2
    lru.clear()
    assert len(lru) == 0 and lru.get("alice", "a") is None


def test_a_full_lru_takes_from_the_tenant_holding_most_so_a_quiet_tenant_keeps_its_items():
    lru = TenantLRU(total=4)
    lru.put("quiet", "q", 0)
    for i in range(10):
        lru.put("busy", i, i)
    assert len(lru) == 4 and lru.get("quiet", "q") == 0
    assert lru.size_of("busy") == 3 and [lru.get("busy", i) for i in (6, 7, 8, 9)] == [None, 7, 8, 9]


def test_sizes_must_be_positive():
    with pytest.raises(ValueError):
        TenantLRU(total=0)
