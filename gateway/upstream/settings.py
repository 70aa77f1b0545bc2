"""What gateway.yaml says about one upstream (`upstreams:`): its servers, models, timeouts and limits.

Read by gateway/config/ against these fields and their constraints; `problems` adds the rules that
span several fields.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from gateway.upstream.circuit_breaker import BreakerSettings
from policies.constraints import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, OneOf, checked

# How an upstream gets `/v1/responses` (UpstreamConfig.responses).
TRANSLATE, NATIVE = "translate", "native"


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = checked(2.0, POSITIVE)
    read_s: float = checked(120.0, POSITIVE, "the longest wait for the answer's next bytes")
    # The longest a whole answer may take, from sending the request to its last byte: a stream that
    # trickles, each piece within read_s, is ended here (an error event; a non-streamed one is a 504).
    total_s: float = checked(600.0, POSITIVE)


@dataclass(frozen=True)
class HealthCheck:
    """Each server is asked GET base_url + path every interval_s (gateway/upstream/routing.py)."""

    path: str = checked("/models", None, expects="a path like /models")
    interval_s: float = checked(5.0, POSITIVE)


@dataclass(frozen=True)
class UpstreamConfig:
    name: str
    # One server (base_url) or several serving the same models (base_urls): set exactly one.
    base_url: str = ""
    # Models this upstream serves. Empty: discovered from its /v1/models.
    models: tuple[str, ...] = ()
    api_key_env: str | None = checked(None, expects="an environment variable name")
    timeouts: Timeouts = Timeouts()
    # Retries happen only before the first byte of the answer reached the client.
    retries: int = checked(1, NON_NEGATIVE)
    # Concurrent requests it serves before queueing: the scale of its load signal.
    capacity: int = checked(32, AT_LEAST_ONE)
    # Several servers of the same models: each has `capacity`, is health-checked, and requests sharing
    # their first affinity_prefix_chars characters of prompt go to the same one (0: no affinity).
    base_urls: tuple[str, ...] | None = None
    health: HealthCheck = HealthCheck()
    affinity_prefix_chars: int = checked(512, NON_NEGATIVE)
    circuit_breaker: BreakerSettings = field(default_factory=BreakerSettings)
    # Send it each request's category, SLO (x-semgate-slo-*) and tenant (gateway/upstream/hints.py):
    # for semgate's own backend only, since tenant names must not reach a hosted API.
    semgate_headers: bool = False
    # Serves POST /v1/embeddings for its models: the gateway passes embedding requests for them through.
    embeddings: bool = False
    # How `/v1/responses` reaches it: translated to chat completions, or sent as is to an upstream that
    # serves the Responses API itself (gateway/protocols/responses_native.py).
    responses: str = checked(TRANSLATE, OneOf((TRANSLATE, NATIVE)))

    def __post_init__(self) -> None:
        # "http://host/v1/" and "http://host/v1" are one server: paths are joined onto the bare form.
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.base_urls is not None:
            object.__setattr__(self, "base_urls", tuple(url.rstrip("/") for url in self.base_urls))

    def problems(self) -> Iterator[tuple[str, str]]:
        """The rules across fields, as (field path, what is wrong)."""
        if bool(self.base_url) == (self.base_urls is not None):
            yield "base_url", "required: set exactly one of base_url or base_urls"
        elif self.base_urls is None:
            yield from _url_problems(self.base_url, "base_url")
        elif not self.base_urls:
            yield "base_urls", "must list at least one URL"
        for i, url in enumerate(self.base_urls or ()):
            yield from _url_problems(url, f"base_urls[{i}]")

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    @property
    def urls(self) -> tuple[str, ...]:
        return self.base_urls or (self.base_url,)

    @property
    def health_path(self) -> str:
        return "/" + self.health.path.lstrip("/")

    @property
    def health_interval_s(self) -> float:
        return self.health.interval_s


def _url_problems(url: str, where: str) -> Iterator[tuple[str, str]]:
    if not url.startswith(("http://", "https://")):
        yield where, f"must start with http:// or https://, got {url!r}"
