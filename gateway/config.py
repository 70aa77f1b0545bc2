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

from gateway.cpu_share import CpuConfig, CpuShare, cpu_share
from gateway.incontext.settings import TIERS, InContextConfig, ModelConfig, RouterWeights
from gateway.upstream.circuit_breaker import BreakerSettings
from gateway.yaml_marks import compose, mark_of

DEFAULT_TENANT = "default"
BUNDLED_UPSTREAM = "bundled"
# How an upstream gets `/v1/responses` (UpstreamConfig.responses).
TRANSLATE, NATIVE = "translate", "native"


class ConfigError(ValueError):
    """`mark`: (line, column) of the field in the file, where the error comes from reading one."""

    def __init__(self, source: str, field_path: str, problem: str, mark: tuple[int, int] | None = None) -> None:
        where = f" (line {mark[0]}, column {mark[1]})" if mark else ""
        super().__init__(f"{source}: {field_path}: {problem}{where}")
        self.source, self.field_path, self.problem = source, field_path, problem
        self.line, self.column = mark or (None, None)


@dataclass(frozen=True)
class Timeouts:
    connect_s: float = 2.0
    read_s: float = 120.0  # the longest wait for the answer's next bytes
    # The longest a whole answer may take, from sending the request to its last byte: a stream that
    # trickles, each piece within read_s, is ended here (an error event; a non-streamed one is a 504).
    total_s: float = 600.0


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
    # Concurrent requests it serves before queueing: the scale of its load signal.
    capacity: int = 32
    # Several servers of the same models (base_urls): each has `capacity`, is health-checked with
    # GET base_url + health_path every health_interval_s, and requests sharing their first
    # affinity_prefix_chars characters of prompt go to the same one (0: no affinity).
    base_urls: tuple[str, ...] = ()
    health_path: str = "/models"
    health_interval_s: float = 5.0
    affinity_prefix_chars: int = 512
    circuit_breaker: BreakerSettings = BreakerSettings()
    # Send it each request's category, SLO (x-semgate-slo-*) and tenant (gateway/upstream/hints.py):
    # for semgate's own backend only, since tenant names must not reach a hosted API.
    semgate_headers: bool = False
    # How `/v1/responses` reaches it: translated to chat completions, or sent as is to an upstream that
    # serves the Responses API itself (gateway/protocols/responses_native.py).
    responses: str = TRANSLATE

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    @property
    def urls(self) -> tuple[str, ...]:
        return self.base_urls or (self.base_url,)


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


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class RedisStoreConfig:
    """The Redis store's settings (gateway/cache/redis_store.py); used when `store` is a redis:// URL."""

    prefix: str = "semgate"  # key prefix: several caches can share one Redis
    # Changes kept in the stream: how far a disconnected replica may fall behind before it rebuilds.
    stream_maxlen: int = 10_000
    # Recent entries each replica keeps in memory to answer hits while Redis is unreachable.
    local_entries: int = 10_000
    timeout_s: float = 1.0


@dataclass(frozen=True)
class CacheConfig:
    """The semantic cache. Relative paths are relative to the directory semgate runs in."""

    enabled: bool = True
    store_path: str = "var/semgate.db"
    # SQLite only: the database file stops growing here; past it answers are served, not stored.
    store_max_bytes: int | None = None
    policies_path: str = "config/policies.yaml"
    # Embedding requests arriving within this window share one model call.
    embed_window_ms: float = 2.0
    embed_max_batch: int = 32
    # Past this, the request bypasses the cache instead of waiting on the embedder.
    embed_timeout_s: float = 2.0
    top_k: int = 8
    redis: RedisStoreConfig = RedisStoreConfig()

    @property
    def store_kind(self) -> str:
        """`store` is a file path (SQLite, embedded) or a redis:// URL (shared by several replicas)."""
        return "redis" if self.store_path.startswith(REDIS_SCHEMES) else "sqlite"


@dataclass(frozen=True)
class Limits:
    """What one request may be; past each, an OpenAI-shaped 413 (431 for headers) before any work."""

    max_body_bytes: int = 1 << 20
    max_messages: int = 1024
    max_message_chars: int = 256_000  # one message's text (or one prompt) in characters
    max_header_bytes: int = 16 << 10  # request line and headers together
    max_header_count: int = 100
    # A client has this long to send its request head (from its first byte, or from connecting), and
    # then this long for the body: past either, a 408 and the connection is closed (gateway/edge/http_limits.py).
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    # The most bytes of one upstream answer the gateway relays: past it, a stream ends with an error
    # event and a non-streamed answer is a 502; either way nothing is stored.
    max_answer_bytes: int = 4 << 20


@dataclass(frozen=True)
class AdminConfig:
    """The admin API's token lives in this environment variable; unset, the admin API is off.
    While a token is set, /metrics (request counts by tenant name) asks for it too, unless
    `public_metrics` opens it to anyone who reaches the port."""

    token_env: str = "SEMGATE_ADMIN_TOKEN"
    public_metrics: bool = False

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    upstreams: tuple[UpstreamConfig, ...] = ()
    tenants: tuple[TenantConfig, ...] = ()
    backend: BackendConfig = BackendConfig()
    cache: CacheConfig = CacheConfig()
    limits: Limits = Limits()
    admin: AdminConfig = AdminConfig()
    models: tuple[ModelConfig, ...] = ()  # IC-Cache routing: strong and small models (gateway/incontext/)
    incontext: InContextConfig = InContextConfig()
    cpu: CpuConfig = CpuConfig()
    source: str = "<defaults>"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_bundled_backend(self) -> "GatewayConfig":
        """The bundled backend is an upstream like any other, unless the config names its own."""
        if not self.backend.enabled or any(u.name == BUNDLED_UPSTREAM for u in self.upstreams):
            return self
        b = self.backend
        bundled = UpstreamConfig(
            name=BUNDLED_UPSTREAM,
            base_url=f"http://{b.host}:{b.port}/v1",
            models=(b.model,),
            timeouts=Timeouts(connect_s=2.0, read_s=300.0),
            capacity=8,
            semgate_headers=True,
        )
        return replace(self, upstreams=(*self.upstreams, bundled))

    def cpu_share(self) -> CpuShare:
        """The priority and embedding threads this gateway takes (with the bundled backend added)."""
        urls = [url for u in self.with_bundled_backend().upstreams for url in u.urls]
        return cpu_share(self.cpu, urls)

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
    reader = _Reader(source, compose(text))
    top = reader.mapping(
        raw, "", {"listen", "upstreams", "tenants", "backend", "cache", "limits", "admin", "models", "incontext", "cpu"}
    )
    host, port = reader.listen(top.get("listen", f"{GatewayConfig.host}:{GatewayConfig.port}"), "listen")
    upstreams = tuple(
        reader.upstream(u, f"upstreams[{i}]") for i, u in enumerate(reader.seq(top.get("upstreams", []), "upstreams"))
    )
    names = [u.name for u in upstreams]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise reader.fail(f"upstreams[{i}].name", f"duplicate upstream name {name!r}")
    tenants = tuple(
        reader.tenant(t, f"tenants[{i}]") for i, t in enumerate(reader.seq(top.get("tenants", []), "tenants"))
    )
    config = GatewayConfig(
        host=host,
        port=port,
        upstreams=upstreams,
        tenants=tenants,
        backend=reader.backend(top.get("backend", {}), "backend"),
        cache=reader.cache(top.get("cache", {}), "cache"),
        limits=reader.limits(top.get("limits", {}), "limits"),
        admin=reader.admin(top.get("admin", {}), "admin"),
        models=reader.models(top.get("models", []), "models"),
        incontext=reader.incontext(top.get("incontext", {}), "incontext"),
        cpu=reader.cpu(top.get("cpu", {}), "cpu"),
        source=source,
        raw=raw,
    )
    return config.with_bundled_backend()


def check_exposure(config: GatewayConfig) -> None:
    """A gateway reachable from other machines must authenticate its clients."""
    if not config.is_loopback and not any(t.key_digest() for t in config.tenants):
        raise ConfigError(
            config.source,
            "tenants",
            f"listen address {config.host} is not loopback and no tenant API key is configured; "
            "add tenants with api_key_env or api_key_sha256, or listen on 127.0.0.1",
        )


class _Reader:
    def __init__(self, source: str, root: yaml.Node | None) -> None:
        self.source = source
        self.root = root  # the document's node tree: where each field is, for errors

    def fail(self, path: str, problem: str) -> ConfigError:
        return ConfigError(self.source, path or "<top level>", problem, mark_of(self.root, path))

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
        u = self.mapping(
            value,
            path,
            {
                "name",
                "base_url",
                "base_urls",
                "models",
                "api_key_env",
                "timeouts",
                "retries",
                "capacity",
                "health",
                "affinity_prefix_chars",
                "circuit_breaker",
                "semgate_headers",
                "responses",
            },
        )
        if "name" not in u:
            raise self.fail(f"{path}.name", "required")
        if ("base_url" in u) == ("base_urls" in u):
            raise self.fail(f"{path}.base_url", "required: set exactly one of base_url or base_urls")
        urls = [u["base_url"]] if "base_url" in u else self.seq(u["base_urls"], f"{path}.base_urls")
        if not urls:
            raise self.fail(f"{path}.base_urls", "must list at least one URL")
        for i, url in enumerate(urls):
            where = f"{path}.base_url" if "base_url" in u else f"{path}.base_urls[{i}]"
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise self.fail(where, f"must start with http:// or https://, got {url!r}")
        urls = [url.rstrip("/") for url in urls]
        health = self.mapping(u.get("health", {}), f"{path}.health", {"path", "interval_s"})
        health_path = self.typed(
            health.get("path", UpstreamConfig.health_path), f"{path}.health.path", str, "a path like /models"
        )
        affinity = self.typed(
            u.get("affinity_prefix_chars", UpstreamConfig.affinity_prefix_chars),
            f"{path}.affinity_prefix_chars",
            int,
            "an integer",
        )
        if affinity < 0:
            raise self.fail(f"{path}.affinity_prefix_chars", f"must be >= 0, got {affinity}")
        models = [
            self.typed(m, f"{path}.models[{i}]", str, "a model name")
            for i, m in enumerate(self.seq(u.get("models", []), f"{path}.models"))
        ]
        t = self.mapping(u.get("timeouts", {}), f"{path}.timeouts", {"connect_s", "read_s", "total_s"})
        timeouts = Timeouts(**{k: self.positive(v, f"{path}.timeouts.{k}") for k, v in t.items()})
        retries = self.typed(u.get("retries", UpstreamConfig.retries), f"{path}.retries", int, "an integer")
        if retries < 0:
            raise self.fail(f"{path}.retries", f"must be >= 0, got {retries}")
        capacity = self.typed(u.get("capacity", UpstreamConfig.capacity), f"{path}.capacity", int, "an integer")
        if capacity < 1:
            raise self.fail(f"{path}.capacity", f"must be >= 1, got {capacity}")
        key_env = u.get("api_key_env")
        if key_env is not None:
            self.typed(key_env, f"{path}.api_key_env", str, "an environment variable name")
        responses = u.get("responses", UpstreamConfig.responses)
        if responses not in (TRANSLATE, NATIVE):
            raise self.fail(f"{path}.responses", f"must be {TRANSLATE} or {NATIVE}, got {responses!r}")
        return UpstreamConfig(
            name=self.typed(u["name"], f"{path}.name", str, "a name"),
            base_url=urls[0],
            base_urls=tuple(urls) if "base_urls" in u else (),
            health_path="/" + health_path.lstrip("/"),
            health_interval_s=self.positive(
                health.get("interval_s", UpstreamConfig.health_interval_s), f"{path}.health.interval_s"
            ),
            affinity_prefix_chars=affinity,
            models=tuple(models),
            api_key_env=key_env,
            timeouts=timeouts,
            retries=retries,
            capacity=capacity,
            circuit_breaker=self.breaker(u.get("circuit_breaker", {}), f"{path}.circuit_breaker"),
            semgate_headers=self.typed(
                u.get("semgate_headers", UpstreamConfig.semgate_headers),
                f"{path}.semgate_headers",
                bool,
                "true or false",
            ),
            responses=responses,
        )

    def breaker(self, value: Any, path: str) -> BreakerSettings:
        b = self.mapping(value, path, {"enabled", "failures", "cooldown_s", "max_retry_after_s"})
        d = BreakerSettings()
        failures = self.typed(b.get("failures", d.failures), f"{path}.failures", int, "an integer")
        if failures < 1:
            raise self.fail(f"{path}.failures", f"must be >= 1, got {failures}")
        return BreakerSettings(
            enabled=self.typed(b.get("enabled", d.enabled), f"{path}.enabled", bool, "true or false"),
            failures=failures,
            cooldown_s=self.positive(b.get("cooldown_s", d.cooldown_s), f"{path}.cooldown_s"),
            max_retry_after_s=self.positive(
                b.get("max_retry_after_s", d.max_retry_after_s), f"{path}.max_retry_after_s"
            ),
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
        return TenantConfig(
            name=self.typed(t["name"], f"{path}.name", str, "a name"), api_key_sha256=digest, api_key_env=env
        )

    def backend(self, value: Any, path: str) -> BackendConfig:
        b = self.mapping(value, path, {"enabled", "model", "host", "port", "extra_args"})
        d = BackendConfig()
        port = self.typed(b.get("port", d.port), f"{path}.port", int, "a port number")
        if not 0 < port < 65536:
            raise self.fail(f"{path}.port", f"must be in 1..65535, got {port}")
        extra = [
            self.typed(a, f"{path}.extra_args[{i}]", str, "a string")
            for i, a in enumerate(self.seq(b.get("extra_args", []), f"{path}.extra_args"))
        ]
        return BackendConfig(
            enabled=self.typed(b.get("enabled", d.enabled), f"{path}.enabled", bool, "true or false"),
            model=self.typed(b.get("model", d.model), f"{path}.model", str, "a model name"),
            host=self.typed(b.get("host", d.host), f"{path}.host", str, "a host"),
            port=port,
            extra_args=tuple(extra),
        )

    def cpu(self, value: Any, path: str) -> CpuConfig:
        c = self.mapping(value, path, {"nice", "embed_threads"})
        nice = c.get("nice")
        if nice is not None and not 0 <= self.typed(nice, f"{path}.nice", int, "an integer") <= 19:
            raise self.fail(f"{path}.nice", f"must be in 0..19, got {nice}")
        threads = c.get("embed_threads")
        if threads is not None and self.typed(threads, f"{path}.embed_threads", int, "an integer") < 1:
            raise self.fail(f"{path}.embed_threads", f"must be >= 1, got {threads}")
        return CpuConfig(nice=nice, embed_threads=threads)

    def cache(self, value: Any, path: str) -> CacheConfig:
        c = self.mapping(
            value,
            path,
            {
                "enabled",
                "store",
                "policies",
                "embed_window_ms",
                "embed_max_batch",
                "embed_timeout_s",
                "top_k",
                "redis",
                "store_max_bytes",
            },
        )
        defaults = CacheConfig()
        top_k = self.typed(c.get("top_k", defaults.top_k), f"{path}.top_k", int, "an integer")
        batch = self.typed(
            c.get("embed_max_batch", defaults.embed_max_batch), f"{path}.embed_max_batch", int, "an integer"
        )
        max_bytes = c.get("store_max_bytes")
        if max_bytes is not None:
            max_bytes = self.typed(max_bytes, f"{path}.store_max_bytes", int, "a number of bytes")
            if max_bytes < 65536:
                raise self.fail(f"{path}.store_max_bytes", f"must be >= 65536 (64 KiB), got {max_bytes}")
        for name, number in (("top_k", top_k), ("embed_max_batch", batch)):
            if number < 1:
                raise self.fail(f"{path}.{name}", f"must be >= 1, got {number}")
        return CacheConfig(
            enabled=self.typed(c.get("enabled", defaults.enabled), f"{path}.enabled", bool, "true or false"),
            store_path=self.typed(
                c.get("store", defaults.store_path), f"{path}.store", str, "a file path or redis:// URL"
            ),
            store_max_bytes=max_bytes,
            policies_path=self.typed(c.get("policies", defaults.policies_path), f"{path}.policies", str, "a file path"),
            embed_window_ms=self.positive(
                c.get("embed_window_ms", defaults.embed_window_ms), f"{path}.embed_window_ms"
            ),
            embed_max_batch=batch,
            embed_timeout_s=self.positive(
                c.get("embed_timeout_s", defaults.embed_timeout_s), f"{path}.embed_timeout_s"
            ),
            top_k=top_k,
            redis=self.redis_store(c.get("redis", {}), f"{path}.redis"),
        )

    def redis_store(self, value: Any, path: str) -> RedisStoreConfig:
        r = self.mapping(value, path, {"prefix", "stream_maxlen", "local_entries", "timeout_s"})
        d = RedisStoreConfig()
        counts = {}
        for name in ("stream_maxlen", "local_entries"):
            counts[name] = self.typed(r.get(name, getattr(d, name)), f"{path}.{name}", int, "an integer")
            if counts[name] < (1 if name == "stream_maxlen" else 0):
                raise self.fail(
                    f"{path}.{name}", f"must be >= {1 if name == 'stream_maxlen' else 0}, got {counts[name]}"
                )
        return RedisStoreConfig(
            prefix=self.typed(r.get("prefix", d.prefix), f"{path}.prefix", str, "a key prefix"),
            timeout_s=self.positive(r.get("timeout_s", d.timeout_s), f"{path}.timeout_s"),
            **counts,
        )

    def admin(self, value: Any, path: str) -> AdminConfig:
        a = self.mapping(value, path, {"token_env", "public_metrics"})
        token_env = self.typed(
            a.get("token_env", AdminConfig.token_env), f"{path}.token_env", str, "an environment variable name"
        )
        public = self.typed(
            a.get("public_metrics", AdminConfig.public_metrics), f"{path}.public_metrics", bool, "true or false"
        )
        return AdminConfig(token_env=token_env, public_metrics=public)

    def models(self, value: Any, path: str) -> tuple[ModelConfig, ...]:
        models = []
        for i, item in enumerate(self.seq(value, path)):
            where = f"{path}[{i}]"
            m = self.mapping(
                item, where, {"name", "tier", "cost_per_1k_tokens", "serves", "params", "capacity", "tokenizer"}
            )
            for required in ("name", "tier"):
                if required not in m:
                    raise self.fail(f"{where}.{required}", "required")
            name = self.typed(m["name"], f"{where}.name", str, "a model name")
            if name in (other.name for other in models):
                raise self.fail(f"{where}.name", f"duplicate model name {name!r}")
            tier = self.typed(m["tier"], f"{where}.tier", str, "a tier")
            if tier not in TIERS:
                raise self.fail(f"{where}.tier", f"must be one of {', '.join(TIERS)}, got {tier!r}")
            cost = self.typed(
                m.get("cost_per_1k_tokens", ModelConfig.cost_per_1k_tokens),
                f"{where}.cost_per_1k_tokens",
                (int, float),
                "a number",
            )
            if cost < 0:
                raise self.fail(f"{where}.cost_per_1k_tokens", f"must be >= 0, got {cost}")
            capacity = self.typed(m.get("capacity", ModelConfig.capacity), f"{where}.capacity", int, "an integer")
            if capacity < 1:
                raise self.fail(f"{where}.capacity", f"must be >= 1, got {capacity}")
            serves, tokenizer = m.get("serves"), m.get("tokenizer")
            models.append(
                ModelConfig(
                    name=name,
                    tier=tier,
                    cost_per_1k_tokens=float(cost),
                    capacity=capacity,
                    serves=None if serves is None else self.typed(serves, f"{where}.serves", str, "a model name"),
                    params=dict(self.mapping(m.get("params", {}), f"{where}.params", set(m.get("params") or {}))),
                    tokenizer=None
                    if tokenizer is None
                    else self.typed(tokenizer, f"{where}.tokenizer", str, "a file path"),
                )
            )
        return tuple(models)

    def incontext(self, value: Any, path: str) -> InContextConfig:
        c = self.mapping(
            value,
            path,
            {
                "enabled",
                "min_similarity",
                "duplicate_similarity",
                "min_utility",
                "reask_window_s",
                "reask_similarity",
                "mark_examples",
                "router",
            },
        )
        d = InContextConfig()
        unit = {}
        for name in ("min_similarity", "duplicate_similarity", "reask_similarity"):
            unit[name] = float(self.typed(c.get(name, getattr(d, name)), f"{path}.{name}", (int, float), "a number"))
            if not 0 <= unit[name] <= 1:
                raise self.fail(f"{path}.{name}", f"must be from 0 to 1, got {unit[name]}")
        r = self.mapping(c.get("router", {}), f"{path}.router", {"cost_weight", "load_weight", "exploration"})
        weights = {}
        for name in ("cost_weight", "load_weight", "exploration"):
            weights[name] = float(
                self.typed(r.get(name, getattr(d.router, name)), f"{path}.router.{name}", (int, float), "a number")
            )
            if weights[name] < 0:
                raise self.fail(f"{path}.router.{name}", f"must be >= 0, got {weights[name]}")
        return InContextConfig(
            enabled=self.typed(c.get("enabled", d.enabled), f"{path}.enabled", bool, "true or false"),
            min_utility=float(
                self.typed(c.get("min_utility", d.min_utility), f"{path}.min_utility", (int, float), "a number")
            ),
            reask_window_s=self.positive(c.get("reask_window_s", d.reask_window_s), f"{path}.reask_window_s"),
            mark_examples=self.typed(
                c.get("mark_examples", d.mark_examples), f"{path}.mark_examples", bool, "true or false"
            ),
            router=RouterWeights(**weights),
            **unit,
        )

    def limits(self, value: Any, path: str) -> Limits:
        lim = self.mapping(
            value,
            path,
            {
                "max_body_bytes",
                "max_messages",
                "max_message_chars",
                "max_header_bytes",
                "max_header_count",
                "header_timeout_s",
                "body_timeout_s",
                "max_answer_bytes",
            },
        )
        out = {}
        for key, number in lim.items():
            if key.endswith("_s"):
                out[key] = self.positive(number, f"{path}.{key}")
                continue
            number = self.typed(number, f"{path}.{key}", int, "an integer")
            if number <= 0:
                raise self.fail(f"{path}.{key}", f"must be > 0, got {number}")
            out[key] = number
        return Limits(**out)
