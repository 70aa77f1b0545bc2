"""Per-tenant fair share (FastSwitch's fairness, accounted like a virtual token counter).

Each tenant's service is the work the engine did for it (prefill tokens, and decode
tokens weighted higher since each costs a step), divided by its priority weight, which
may change at run time. The waiting tenant with the least weighted service is admitted
first; a tenant that arrives after being idle starts from the least service of the
tenants already active, so idling banks no credit. When a tenant waits while one far
over its share runs, the scheduler preempts (swaps out) the latter's newest request.

The engine thread owns an instance; other threads change priorities through the engine's
inbox (AsyncEngine.call), never directly. FairSharePolicy plugs the accounting into the
scheduler; with fair share off the engine holds FairShareOff, which accounts nothing.
"""

from collections import deque
from collections.abc import Iterable

from gpu_backend.engine.scheduled_batch import ScheduledBatch
from gpu_backend.engine.scheduling_policy import RunQueues, SchedulingPolicy
from gpu_backend.engine.sequence import Sequence
from gpu_backend.errors import FairShareDisabled, InvalidRequest


class TenantAccounting:
    enabled = True

    def __init__(self, prefill_cost: float = 1.0, decode_cost: float = 2.0, preempt_gap: float = 512.0) -> None:
        self.prefill_cost = prefill_cost
        self.decode_cost = decode_cost
        # Weighted service by which a running tenant must lead a waiting one to be preempted for it.
        self.preempt_gap = preempt_gap
        self.service: dict[str, float] = {}
        self.priorities: dict[str, float] = {}
        self.preemptions = 0  # fairness preemptions (one tenant's request for another's)
        self.preempted: dict[str, int] = {}  # per tenant: its requests preempted, for any reason

    def set_priority(self, tenant: str, weight: float) -> None:
        """Share weight of `tenant` from now on (default 1; 2 means twice the service)."""
        if weight <= 0:
            raise InvalidRequest("a tenant's priority weight must be positive")
        self.priorities[tenant] = weight

    def record_preemption(self, tenant: str) -> None:
        self.preempted[tenant] = self.preempted.get(tenant, 0) + 1

    def tenants(self) -> list[dict]:
        """Each tenant served or given a priority: its service, weight, share and preemptions."""
        names = sorted(self.service.keys() | self.priorities.keys() | self.preempted.keys())
        return [
            {
                "tenant": name,
                "service": self.service.get(name, 0.0),
                "weight": self.priorities.get(name, 1.0),
                "share": self.share(name),
                "preemptions": self.preempted.get(name, 0),
            }
            for name in names
        ]

    def charge(self, tenant: str, num_new_tokens: int) -> None:
        cost = self.decode_cost if num_new_tokens == 1 else self.prefill_cost * num_new_tokens
        self.service[tenant] = self.service.get(tenant, 0.0) + cost

    def share(self, tenant: str) -> float:
        return self.service.get(tenant, 0.0) / self.priorities.get(tenant, 1.0)

    def arrive(self, tenant: str, active: Iterable[str]) -> None:
        """A request of `tenant` arrives; `active`: tenants with requests queued or running."""
        others = [self.share(t) for t in set(active) - {tenant}]
        if tenant not in set(active) and others:
            floor = min(others) * self.priorities.get(tenant, 1.0)
            self.service[tenant] = max(self.service.get(tenant, 0.0), floor)

    def should_preempt(self, waiting_tenant: str, running_tenant: str) -> bool:
        return (
            running_tenant != waiting_tenant
            and self.share(running_tenant) - self.share(waiting_tenant) > self.preempt_gap
        )


class FairShareOff:
    """Fair share is off: no tenant is accounted, weighted or preempted for another."""

    enabled = False
    preemptions = 0

    def tenants(self) -> list[dict]:
        return []

    def set_priority(self, tenant: str, weight: float) -> None:
        raise FairShareDisabled("fair share is off: start the backend with --fair-share to weight tenants")


class FairSharePolicy(SchedulingPolicy):
    """Least-served tenant first (the other policies' order within a tenant), and a tenant far
    over its share gives up its newest request for a waiting tenant under it."""

    def __init__(self, accounting: TenantAccounting, queues: RunQueues) -> None:
        self.accounting = accounting
        self.queues = queues

    def arrive(self, seq: Sequence, active: list[Sequence]) -> None:
        self.accounting.arrive(seq.tenant, [other.tenant for other in active])

    def order(self, waiting: deque[Sequence]) -> deque[Sequence]:
        return deque(sorted(waiting, key=lambda seq: self.accounting.share(seq.tenant)))

    def blocked(self, seq: Sequence) -> Sequence | None:
        running = self.queues.running
        victim_tenant = max({other.tenant for other in running}, key=self.accounting.share)
        if not self.accounting.should_preempt(seq.tenant, victim_tenant):
            return None
        self.accounting.preemptions += 1
        return next(other for other in reversed(running) if other.tenant == victim_tenant)

    def preempted(self, seq: Sequence) -> None:
        self.accounting.record_preemption(seq.tenant)

    def observe_step(self, batch: ScheduledBatch, seconds: float) -> None:
        for seq, count in zip(batch.seqs, batch.num_new_tokens, strict=True):
            self.accounting.charge(seq.tenant, count)

    def stats(self) -> dict[str, float]:
        return {"fair_share_preemptions": self.accounting.preemptions}
