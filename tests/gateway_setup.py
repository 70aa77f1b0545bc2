"""Helpers for gateway tests: the gateway config in front of the echo upstream."""

import httpx

from loadtest.echo_upstream import EchoUpstream


def gateway_head(store: str | None = None) -> str:
    """Listen address, no bundled backend, and the cache on when `store` (a path) is given."""
    cache = f"{{enabled: true, store: '{store}', policies: config/policies.yaml}}" if store else "{enabled: false}"
    return f"""
listen: 127.0.0.1:8080
backend: {{enabled: false}}
cache: {cache}
"""


def gateway_yaml(upstream_url: str, extra: str = "", store: str | None = None) -> str:
    """The gateway in front of the echo upstream; the cache is on when `store` (a path) is given."""
    return gateway_head(store) + f"""upstreams:
  - name: echo
    base_url: {upstream_url}/v1
    models: [echo-1]
    timeouts: {{connect_s: 1, read_s: 2}}
    retries: 1
{extra}
"""


def control(upstream: EchoUpstream, **settings) -> None:
    httpx.post(f"{upstream.url}/_echo/control", json=settings).raise_for_status()
