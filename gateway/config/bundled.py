"""The bundled backend that `semgate up` starts (gateway.yaml `backend:`), and the upstream it becomes."""

from dataclasses import dataclass

from gateway.upstream.settings import Timeouts, UpstreamConfig
from policies.constraints import Range, checked

BUNDLED_UPSTREAM = "bundled"


@dataclass(frozen=True)
class BackendConfig:
    enabled: bool = True
    model: str = checked("smollm2-135m", expects="a model name")
    host: str = checked("127.0.0.1", expects="a host")
    port: int = checked(8001, Range(1, 65535), expects="a port number")
    extra_args: tuple[str, ...] = ()


def bundled_upstream(backend: BackendConfig) -> UpstreamConfig:
    """A small CPU model answers slowly and serves few at once: longer reads, a smaller capacity."""
    return UpstreamConfig(
        name=BUNDLED_UPSTREAM,
        base_url=f"http://{backend.host}:{backend.port}/v1",
        models=(backend.model,),
        timeouts=Timeouts(read_s=300.0),
        capacity=8,
        semgate_headers=True,
    )
