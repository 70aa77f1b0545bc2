"""The server under test: its base URL, the loopback-only guard, and the model it serves."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx


class RemoteTargetError(ValueError):
    pass


def base_url(url: str) -> str:
    """`http://host:port` from any of `http://host:port`, `.../`, `.../v1`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"target must be an http(s) URL, got {url!r}")
    path = parts.path.rstrip("/")
    path = path[: -len("/v1")] if path.endswith("/v1") else path
    return f"{parts.scheme}://{parts.netloc}{path}"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return False
    # Every address must be loopback: a name that also resolves elsewhere could send load there.
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def require_loopback(url: str, allow_remote: bool) -> None:
    """Load tests hit loopback only, unless the user says otherwise: a load test is a small DoS."""
    host = urlsplit(url).hostname or ""
    if not allow_remote and not is_loopback(host):
        raise RemoteTargetError(f"refusing to load-test non-loopback target {host!r}; pass --allow-remote if you own it")


def served_model(url: str, api_key: str | None = None, timeout_s: float = 10.0) -> str:
    """The first model id of GET /v1/models."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    response = httpx.get(f"{base_url(url)}/v1/models", headers=headers, timeout=timeout_s)
    response.raise_for_status()
    models = response.json().get("data") or []
    if not models:
        raise ValueError(f"{url} serves no models")
    return str(models[0]["id"])
