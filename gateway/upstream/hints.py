"""What the gateway tells semgate's own backend about a request: its category, SLO and tenant.

The backend's goodput scheduler serves first what can still meet its SLO, learns output lengths
per category, and shares the engine fairly per tenant; these headers are how it learns each.
The tenant is also the request's prefix-cache salt: the backend shares KV only between requests
of one salt, so a tenant's time to first token never tells whether another tenant recently sent
the same prompt prefix (a system prompt, a document), which a KV cache shared by all would.
UpstreamPool.open sends them only to upstreams marked `semgate_headers` (the bundled backend):
a hosted API never learns tenant names. The SLO is the category's slo_class (policies.yaml),
overridden field by field by the client's own x-semgate-slo-*-ms headers.
"""

import math
from collections.abc import Mapping
from urllib.parse import quote

from gateway.edge.errors import invalid
from policies.schema import SLOClass

SLO_FIELDS = ("ttft", "tpot", "deadline")  # header x-semgate-slo-{field}-ms, SLOClass.{field}_ms
CATEGORY_HEADER = "x-semgate-category"
TENANT_HEADER = "x-semgate-tenant"
KV_SALT_HEADER = "x-semgate-kv-salt"  # the backend's --kv-salt-header default
# Visible ASCII but '%' stays as it is; anything else in a tenant name is percent-encoded (UTF-8),
# since a header value cannot carry it. The backend decodes it again.
_TENANT_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")


def slo_header(field: str) -> str:
    return f"x-semgate-slo-{field}-ms"


def client_slo(headers: Mapping[str, str]) -> dict[str, float]:
    """The objectives the client set itself, by field, in milliseconds. An empty header is absent
    (as the backend reads it); anything but a positive finite number is an OpenAI-shaped 400."""
    objectives = {}
    for field in SLO_FIELDS:
        name = slo_header(field)
        raw = headers.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise invalid(
                f"{name} must be a positive number of milliseconds, got {raw[:40]!r}",
                param=name,
                code="invalid_slo_header",
            )
        objectives[field] = value
    return objectives


def upstream_hints(
    category: str | None, slo_class: SLOClass | None, client: Mapping[str, float], tenant: str
) -> dict[str, str]:
    """The headers for a semgate backend. `category` and `slo_class` are None when the cache
    (which classifies) is off; the client's objectives still go, and the tenant always."""
    tenant_value = quote(tenant, safe=_TENANT_SAFE)
    hints = {TENANT_HEADER: tenant_value, KV_SALT_HEADER: tenant_value}
    if category is not None:
        hints[CATEGORY_HEADER] = category
    for field in SLO_FIELDS:
        value = client.get(field, getattr(slo_class, f"{field}_ms") if slo_class is not None else None)
        if value is not None:
            hints[slo_header(field)] = _milliseconds(value)
    return hints


def _milliseconds(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
