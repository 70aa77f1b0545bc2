"""gateway.yaml: where the gateway listens, which upstreams serve which models, who the tenants are.

Every error names the file, the field and what is wrong, so a bad deploy fails at start
with a message an operator can act on.
"""

import hashlib
import ipaddress
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

DEFAULT_TENANT = "default"
BUNDLED_UPSTREAM = "bundled"


class ConfigError(ValueError):
    def __init__(self, source: str, field_path: str, problem: str) -> None:
        super().__init__(f"{source}: {field_path}: {problem}")
        self.source, self.field_path, self.problem = source, field_path, problem


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 2.0
    read_s: float = 120.0


@dataclass(frozen=True)
class UpstreamConfig:
    name: str
    base_url: str
    # Models this upstream serves. Empty: discovered from its /v1/models.
    models: tuple[str, ...] = ()
    api_key_env: str | None = None
    timeouts: Timeouts = Timeouts()
    # Retries happen only before the first byte of the answer reached the client.
    retries: int = 1

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None


@dataclass(frozen=True)
class TenantConfig:
    name: str
    # The key is never stored in the config in clear: its SHA-256, or an env variable holding it.
    api_key_sha256: str | None = None
    api_key_env: str | None = None

    def key_digest(self) -> str | None:
        if self.api_key_sha256:
            return self.api_key_sha256.lower()
        key = os.environ.get(self.api_key_env or "")
        return hashlib.sha256(key.encode()).hexdigest() if key else None


@dataclass(frozen=True)
class BackendConfig:
    """The bundled backend that `semgate up` starts."""

    enabled: bool = True
    model: str = "smollm2-135m"
    host: str = "127.0.0.1"
    port: int = 8001
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    max_body_bytes: int = 1 << 20
    max_messages: int = 1024
    max_header_bytes: int = 16 << 10


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    upstreams: tuple[UpstreamConfig, ...] = ()
    tenants: tuple[TenantConfig, ...] = ()
    backend: BackendConfig = BackendConfig()
    limits: Limits = Limits()
    source: str = "<defaults>"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_bundled_backend(self) -> "GatewayConfig":
        """The bundled backend is an upstream like any other, unless the config names its own."""
        if not self.backend.enabled or any(u.name == BUNDLED_UPSTREAM for u in self.upstreams):
            return self
        b = self.backend
        bundled = UpstreamConfig(name=BUNDLED_UPSTREAM, base_url=f"http://{b.host}:{b.port}/v1", models=(b.model,),
                                 timeouts=Timeouts(connect_s=2.0, read_s=300.0))
        return replace(self, upstreams=(*self.upstreams, bundled))

    def with_listen(self, host: str, port: int) -> "GatewayConfig":
        return replace(self, host=host, port=port)

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
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(str(path), "<file>", f"cannot read: {exc.strerror}") from exc
    return parse_config(text, str(path))


def parse_config(text: str, source: str = "<string>") -> GatewayConfig:
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(source, "<file>", f"invalid YAML: {exc}") from exc
    reader = _Reader(source)
    top = reader.mapping(raw, "", {"listen", "upstreams", "tenants", "backend", "limits"})
    host, port = reader.listen(top.get("listen", "127.0.0.1:8080"), "listen")
    upstreams = tuple(reader.upstream(u, f"upstreams[{i}]") for i, u in enumerate(reader.seq(top.get("upstreams", []), "upstreams")))
    names = [u.name for u in upstreams]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(source, f"upstreams[{i}].name", f"duplicate upstream name {name!r}")
    tenants = tuple(reader.tenant(t, f"tenants[{i}]") for i, t in enumerate(reader.seq(top.get("tenants", []), "tenants")))
    config = GatewayConfig(
        host=host,
        port=port,
        upstreams=upstreams,
        tenants=tenants,
        backend=reader.backend(top.get("backend", {}), "backend"),
        limits=reader.limits(top.get("limits", {}), "limits"),
        source=source,
        raw=raw,
    )
    return config.with_bundled_backend()


def check_exposure(config: GatewayConfig) -> None:
    """A gateway reachable from other machines must authenticate its clients."""
    if not config.is_loopback and not any(t.key_digest() for t in config.tenants):
        raise ConfigError(
            config.source, "tenants",
            f"listen address {config.host} is not loopback and no tenant API key is configured; "
            "add tenants with api_key_env or api_key_sha256, or listen on 127.0.0.1",
        )


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> ConfigError:
        return ConfigError(self.source, path or "<top level>", problem)

    def mapping(self, value: Any, path: str, allowed: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {type(value).__name__}")
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}".lstrip("."), f"unknown field; allowed: {', '.join(sorted(allowed))}")
        return value

    def seq(self, value: Any, path: str) -> list:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {type(value).__name__}")
        return value

    def typed(self, value: Any, path: str, kind: type | tuple, what: str) -> Any:
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(path, f"expected {what}, got a boolean")
        if not isinstance(value, kind):
            raise self.fail(path, f"expected {what}, got {value!r}")
        return value

    def positive(self, value: Any, path: str) -> float:
        number = self.typed(value, path, (int, float), "a number")
        if number <= 0:
            raise self.fail(path, f"must be > 0, got {number}")
        return float(number)

    def listen(self, value: Any, path: str) -> tuple[str, int]:
        text = self.typed(value, path, str, "HOST:PORT")
        host, sep, port = text.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise self.fail(path, f"expected HOST:PORT with a port in 1..65535, got {text!r}")
        return host.strip("[]"), int(port)

    def upstream(self, value: Any, path: str) -> UpstreamConfig:
        u = self.mapping(value, path, {"name", "base_url", "models", "api_key_env", "timeouts", "retries"})
        for required in ("name", "base_url"):
            if required not in u:
                raise self.fail(f"{path}.{required}", "required")
        base_url = self.typed(u["base_url"], f"{path}.base_url", str, "a URL")
        if not base_url.startswith(("http://", "https://")):
            raise self.fail(f"{path}.base_url", f"must start with http:// or https://, got {base_url!r}")
        models = [self.typed(m, f"{path}.models[{i}]", str, "a model name") for i, m in enumerate(self.seq(u.get("models", []), f"{path}.models"))]
        t = self.mapping(u.get("timeouts", {}), f"{path}.timeouts", {"connect_s", "read_s"})
        timeouts = Timeouts(**{k: self.positive(v, f"{path}.timeouts.{k}") for k, v in t.items()})
        retries = self.typed(u.get("retries", 1), f"{path}.retries", int, "an integer")
        if retries < 0:
            raise self.fail(f"{path}.retries", f"must be >= 0, got {retries}")
        key_env = u.get("api_key_env")
        if key_env is not None:
            self.typed(key_env, f"{path}.api_key_env", str, "an environment variable name")
        return UpstreamConfig(
            name=self.typed(u["name"], f"{path}.name", str, "a name"),
            base_url=base_url.rstrip("/"),
            models=tuple(models),
            api_key_env=key_env,
            timeouts=timeouts,
            retries=retries,
        )

    def tenant(self, value: Any, path: str) -> TenantConfig:
        t = self.mapping(value, path, {"name", "api_key_sha256", "api_key_env"})
        if "name" not in t:
            raise self.fail(f"{path}.name", "required")
        digest, env = t.get("api_key_sha256"), t.get("api_key_env")
        if (digest is None) == (env is None):
            raise self.fail(path, "set exactly one of api_key_sha256 or api_key_env")
        if digest is not None:
            digest = self.typed(digest, f"{path}.api_key_sha256", str, "a hex SHA-256")
            if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
                raise self.fail(f"{path}.api_key_sha256", "expected 64 hex characters (sha256 of the key)")
        return TenantConfig(name=self.typed(t["name"], f"{path}.name", str, "a name"), api_key_sha256=digest, api_key_env=env)

    def backend(self, value: Any, path: str) -> BackendConfig:
        b = self.mapping(value, path, {"enabled", "model", "host", "port", "extra_args"})
        port = self.typed(b.get("port", 8001), f"{path}.port", int, "a port number")
        if not 0 < port < 65536:
            raise self.fail(f"{path}.port", f"must be in 1..65535, got {port}")
        extra = [self.typed(a, f"{path}.extra_args[{i}]", str, "a string") for i, a in enumerate(self.seq(b.get("extra_args", []), f"{path}.extra_args"))]
        return BackendConfig(
            enabled=self.typed(b.get("enabled", True), f"{path}.enabled", bool, "true or false"),
            model=self.typed(b.get("model", "smollm2-135m"), f"{path}.model", str, "a model name"),
            host=self.typed(b.get("host", "127.0.0.1"), f"{path}.host", str, "a host"),
            port=port,
            extra_args=tuple(extra),
        )

    def limits(self, value: Any, path: str) -> Limits:
        lim = self.mapping(value, path, {"max_body_bytes", "max_messages", "max_header_bytes"})
        out = {}
        for key, number in lim.items():
            number = self.typed(number, f"{path}.{key}", int, "an integer")
            if number <= 0:
                raise self.fail(f"{path}.{key}", f"must be > 0, got {number}")
            out[key] = number
        return Limits(**out)
