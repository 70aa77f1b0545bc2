"""gateway.yaml: where the gateway listens, which upstreams serve which models, who the tenants are.

Each section's dataclass lives with the code that uses it; this is the document that holds them, and
the rules of a deployment: the bundled backend joins the upstreams, and a gateway other machines can
reach must authenticate its clients.
"""

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from gateway.admin.settings import AdminConfig
from gateway.cache.settings import CacheConfig
from gateway.config.reader import ConfigError, read_document
from gateway.cpu_share import CpuConfig, CpuShare, cpu_share
from gateway.edge.embeddings_settings import EmbeddingsConfig
from gateway.edge.limits import Limits
from gateway.edge.tenants import TenantConfig
from gateway.incontext.settings import InContextConfig, ModelConfig
from gateway.upstream.settings import Timeouts, UpstreamConfig
from policies.constraints import Range, checked

BUNDLED_UPSTREAM = "bundled"

_NOT_IN_THE_FILE = {"source": "set by semgate (the file read), not in the file"}


@dataclass(frozen=True)
class BackendConfig:
    """The bundled backend that `semgate up` starts; the gateway adds it as the upstream `bundled`."""

    enabled: bool = True
    model: str = checked("smollm2-135m", expects="a model name")
    host: str = checked("127.0.0.1", expects="a host")
    port: int = checked(8001, Range(1, 65535), expects="a port number")
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class GatewayConfig:
    listen: str = checked("127.0.0.1:8080", expects="HOST:PORT")
    upstreams: tuple[UpstreamConfig, ...] = ()
    tenants: tuple[TenantConfig, ...] = ()
    backend: BackendConfig = field(default_factory=BackendConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    limits: Limits = field(default_factory=Limits)
    admin: AdminConfig = field(default_factory=AdminConfig)
    models: tuple[ModelConfig, ...] = ()  # IC-Cache routing: strong and small models (gateway/incontext/)
    incontext: InContextConfig = field(default_factory=InContextConfig)
    cpu: CpuConfig = field(default_factory=CpuConfig)
    embeddings: EmbeddingsConfig = field(default_factory=EmbeddingsConfig)
    source: str = "<defaults>"

    def problems(self) -> Iterator[tuple[str, str]]:
        """The rules across fields, as (field path, what is wrong)."""
        host, sep, port = self.listen.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            yield "listen", f"expected HOST:PORT with a port in 1..65535, got {self.listen!r}"
        for kind, names in (("upstream", [u.name for u in self.upstreams]), ("model", [m.name for m in self.models])):
            for i, name in enumerate(names):
                if name in names[:i]:
                    yield f"{kind}s[{i}].name", f"duplicate {kind} name {name!r}"

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    def with_listen(self, host: str, port: int) -> "GatewayConfig":
        return replace(self, listen=f"[{host}]:{port}" if ":" in host else f"{host}:{port}")

    def with_bundled_backend(self) -> "GatewayConfig":
        """The bundled backend is an upstream like any other, unless the config names its own."""
        if not self.backend.enabled or any(u.name == BUNDLED_UPSTREAM for u in self.upstreams):
            return self
        return replace(self, upstreams=(*self.upstreams, bundled_upstream(self.backend)))

    def cpu_share(self) -> CpuShare:
        """The priority and embedding threads this gateway takes (with the bundled backend added)."""
        urls = [url for u in self.with_bundled_backend().upstreams for url in u.urls]
        return cpu_share(self.cpu, urls)

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def load_config(path: str | Path) -> GatewayConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError.at(str(path), "", f"cannot read the config file: {exc.strerror}") from exc
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<string>") -> GatewayConfig:
    config = read_document(GatewayConfig, text, source, excluded=_NOT_IN_THE_FILE)
    return replace(config, source=source).with_bundled_backend()


def check_exposure(config: GatewayConfig) -> None:
    """A gateway reachable from other machines must authenticate its clients."""
    if not config.is_loopback and not any(t.key_digest() for t in config.tenants):
        raise ConfigError.at(
            config.source,
            "tenants",
            f"listen address {config.host} is not loopback and no tenant API key is configured; "
            "add tenants with api_key_env or api_key_sha256, or listen on 127.0.0.1",
        )


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
