"""Log lines a client cannot forge and that never carry a secret.

Anything a client sends (a model name, a path, a header) may hold newlines, carriage
returns or ANSI escapes; written raw into a log it could fake a line, rewrite a terminal,
or hide what happened. Every record the gateway's log handler writes goes through
SafeFormatter:

- control characters in the arguments of a message (where outside data enters it) are
  escaped the way repr() writes them (`\\n`, `\\x1b`, ...); the line breaks of the message
  itself and of a traceback stay, but every line after the first is indented with "  | ",
  and any other control character is escaped too, so nothing inside a record can start a
  line of its own or reach the terminal;
- debug records come only from semgate's own loggers and uvicorn's: a library's debug output
  (aiosqlite writes every statement with its parameters, which are prompts and answers) never
  reaches the log, whatever the level;
- the secrets the gateway knows (upstream API keys, the admin token, tenant keys read from
  the environment) are replaced by <redacted>, and so are credentials inside URLs and any
  `Bearer ...` value, whichever way they reached the message.
"""

import copy
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.config import GatewayConfig

REDACTED = "<redacted>"
CONTINUATION = "\n  | "
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s@]+@")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
# The loggers whose debug records are written; no other's are (see the module's docstring).
DEBUG_LOGGERS = ("gateway", "policies", "uvicorn")
# Shorter values are too likely to occur in ordinary text to be replaced everywhere.
_MIN_SECRET_CHARS = 6


def escape(text: str) -> str:
    """`text` with every control character (newlines included) written as repr() writes it."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def known_secrets(config: GatewayConfig) -> list[str]:
    """The secret values this config points at: what must never be written anywhere."""
    values = [u.api_key() for u in config.upstreams]
    values.append(config.admin.token())
    values += [_env(t.api_key_env) for t in config.tenants]
    return sorted({v for v in values if v and len(v) >= _MIN_SECRET_CHARS}, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    text = _URL_CREDENTIALS.sub(REDACTED + "@", text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


class SafeFormatter(logging.Formatter):
    def __init__(self, fmt: str = LOG_FORMAT, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        if record.args:
            # The arguments are where outside data enters a message: no line breaks of their own.
            args = record.args
            record = copy.copy(record)
            record.args = (
                {k: _safe_arg(v) for k, v in args.items()}
                if isinstance(args, Mapping)
                else tuple(_safe_arg(a) for a in args)
            )
        text = super().format(record)
        # The message's own line breaks (a traceback, a multi-line report) stay, indented.
        return CONTINUATION.join(escape(redact(line, self.secrets)) for line in text.split("\n"))


def _safe_arg(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value  # keeps %d and %.2f working
    return escape(str(value))


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """One stderr handler on the root logger with the safe formatter; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter(secrets=secrets))
    handler.addFilter(no_foreign_debug)
    root = logging.root
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def no_foreign_debug(record: logging.LogRecord) -> bool:
    """Keep a record unless it is a debug record of a library outside DEBUG_LOGGERS."""
    return record.levelno >= logging.INFO or record.name.split(".", 1)[0] in DEBUG_LOGGERS


def _env(name: str | None) -> str | None:
    return os.environ.get(name) if name else None
