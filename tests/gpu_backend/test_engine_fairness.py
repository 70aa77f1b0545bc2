"""Per-tenant service accounting: weighted shares, priorities changed at run time, no banked
credit for idle tenants, and when a running tenant is far enough ahead to be preempted."""

import pytest

from gpu_backend.engine.fairness import TenantAccounting


def test_decode_tokens_cost_more_than_prefill_tokens_and_priorities_weight_the_share():
    accounting = TenantAccounting(prefill_cost=1.0, decode_cost=2.0)
    accounting.charge("a", 100)  # a prefill chunk of 100 tokens
    for _ in range(50):
        accounting.charge("b", 1)  # 50 decode tokens
    assert accounting.share("a") == accounting.share("b") == 100
    accounting.set_priority("b", 2.0)  # changed while both are active
    assert accounting.share("b") == 50 < accounting.share("a")
    with pytest.raises(ValueError):
        accounting.set_priority("a", 0)


def test_an_idle_tenant_starts_from_the_least_served_active_tenant():
    accounting = TenantAccounting()
    accounting.charge("a", 1000)
    accounting.charge("b", 400)
    accounting.arrive("c", active=["a", "b"])
    assert accounting.share("c") == 400
    accounting.arrive("b", active=["a", "b"])  # already active: nothing changes
    assert accounting.share("b") == 400


def test_preemption_needs_a_lead_beyond_the_gap_and_another_tenant():
    accounting = TenantAccounting(preempt_gap=100)
    accounting.charge("flood", 150)
    accounting.charge("steady", 60)
    assert not accounting.should_preempt("steady", "flood")  # 90 ahead
    accounting.charge("flood", 20)
    assert accounting.should_preempt("steady", "flood")  # 110 ahead
    assert not accounting.should_preempt("flood", "flood")
    accounting.set_priority("flood", 4.0)  # a higher priority shrinks its share: no longer preempted
    assert not accounting.should_preempt("steady", "flood")
