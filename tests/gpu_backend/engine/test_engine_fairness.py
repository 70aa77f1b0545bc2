"""Per-tenant service accounting: weighted shares, priorities changed at run time, no banked
credit for idle tenants, when a running tenant is far enough ahead to be preempted, and a
weight raised while the engine runs reordering its admissions."""

import functools

import pytest
from engine_support import tiny_engine

from gpu_backend.engine import SamplingParams
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


def finish_order(engine, weight_after_first: float | None) -> list[str]:
    """Three requests each of tenants a and b queued together, one running at a time; the
    tenants' order of finishing, with a's weight changed once its first request is done."""
    params = SamplingParams(max_tokens=4, temperature=0, ignore_eos=True)
    for index in range(3):
        for tenant in "ab":
            engine.add_request([100 + index, 200, 300, 400, 500], params, tenant=tenant)
    order: list[str] = []
    tenant_of = {seq.seq_id: seq.tenant for seq in engine.scheduler.waiting}
    while engine.has_unfinished():
        order += [tenant_of[out.seq_id] for out in engine.step() if out.finished]
        if order == ["a"] and weight_after_first is not None:
            engine.fairness.set_priority("a", weight_after_first)
            weight_after_first = None
    return order


def test_raising_a_tenants_weight_at_run_time_changes_the_admission_order(smollm2):
    make = functools.partial(tiny_engine, smollm2.tokenizer, fair_share=True, max_running=1, enable_prefix_cache=False)
    assert finish_order(make(), None)[:4].count("a") == 2  # equal weights: two each of the first four
    assert finish_order(make(), 3.0)[:4] == ["a", "b", "a", "a"]  # a now gets three times b's service
    engine = make()
    finish_order(engine, 3.0)
    rows = {row["tenant"]: row for row in engine.fairness.tenants()}
    assert rows["a"]["weight"] == 3.0 and rows["b"]["weight"] == 1.0
    assert rows["a"]["service"] == rows["b"]["service"] and rows["a"]["share"] == rows["a"]["service"] / 3
