"""GET config: the configuration in force, read-only, with every secret left out.

Keys are never in the config itself, only the names of the environment variables that
hold them; this view shows those names and whether each is set, never a value. Key
digests, credentials inside URLs and secret-looking backend arguments are redacted too,
and so is any field a later config section names like a secret (password, secret, dsn):
a new setting is hidden by default rather than shown by accident.
"""

import os
import re
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gateway.admin.call import Call
from gateway.config import GatewayConfig

REDACTED = "<redacted>"
_SECRET_ARG = re.compile(r"key|token|secret|password|credential", re.IGNORECASE)
_SECRET_FIELD = re.compile(r"password|secret|credential|dsn|sha256", re.IGNORECASE)


async def config(call: Call) -> dict[str, Any]:
    return redacted_config(call.ctx.config)


def redacted_config(cfg: GatewayConfig) -> dict[str, Any]:
    return scrub_secrets(
        {
            "source": cfg.source,
            "listen": f"{cfg.host}:{cfg.port}",
            "upstreams": [
                {**asdict(u), "base_urls": list(u.base_urls or ()), "api_key_set": _is_set(u.api_key_env)}
                for u in cfg.upstreams
            ],
            "tenants": [{**asdict(t), "api_key_set": _is_set(t.api_key_env)} for t in cfg.tenants],
            "backend": {**asdict(cfg.backend), "extra_args": _redacted_args(cfg.backend.extra_args)},
            "cache": asdict(cfg.cache),
            "limits": asdict(cfg.limits),
            "admin": {
                "token_env": cfg.admin.token_env,
                "token_set": _is_set(cfg.admin.token_env),
                "public_metrics": cfg.admin.public_metrics,
            },
        }
    )


def scrub_secrets(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: scrub_secrets(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_secrets(v, key) for v in value]
    if value and _SECRET_FIELD.search(key):
        return REDACTED
    return without_credentials(value) if isinstance(value, str) and "://" in value else value


def _is_set(env: str | None) -> bool:
    return bool(env and os.environ.get(env))


def without_credentials(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=f"{REDACTED}@{parts.netloc.rpartition('@')[2]}"))


def _redacted_args(args: tuple[str, ...]) -> list[str]:
    """`--api-key X` and `--api-key=X` keep the flag and lose the value."""
    out: list[str] = []
    hide_next = False
    for arg in args:
        flag, eq, _ = arg.partition("=")
        if hide_next:
            out.append(REDACTED)
            hide_next = False
        elif arg.startswith("-") and _SECRET_ARG.search(flag):
            out.append(f"{flag}={REDACTED}" if eq else arg)
            hide_next = not eq
        else:
            out.append(arg)
    return out
