"""Reading the backend's /metrics in tests."""

import httpx


def metric(base_url: str, name: str) -> float:
    """The value of semgate_backend_NAME (its first labelled sample) on the server at `base_url`."""
    for line in httpx.get(f"{base_url}/metrics").text.splitlines():
        if line.startswith(f"semgate_backend_{name}{{"):
            return float(line.rsplit(" ", 1)[1])
    raise KeyError(name)
