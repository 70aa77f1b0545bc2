"""API key -> tenant. The tenant is part of every cache key, so this decides isolation.

The Authorization header is read strictly: exactly one of it, `Bearer`, one space, and a key of
visible ASCII characters. Two headers (which one would a proxy in front have checked?) or a key
padded with a non-breaking space or any other character are refused, never trimmed into a match.
Routes for the Anthropic SDKs also take the key as `x-api-key`, as strictly (gateway/protocols/tenant_key.py
refuses two different keys).
"""

import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Protocol

from starlette.datastructures import Headers

from gateway.config import GatewayConfig
from gateway.edge.errors import OpenAIError
from gateway.edge.tenants import DEFAULT_TENANT
from gateway.protocols.errors import ProtocolError
from gateway.protocols.tenant_key import api_key_from_headers


class HeaderList(Protocol):
    """A request's headers as Starlette's Headers gives them: every value of a name."""

    def getlist(self, key: str) -> list[str]: ...


_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] ([\x21-\x7e]+)")
_KEY = re.compile(r"[\x21-\x7e]+")


def bearer_token(values: Sequence[str], code: str) -> str | None:
    """The token of the request's Authorization headers (`values`), None when there is none;
    a 401 with `code` for several headers or one that is not strictly 'Bearer TOKEN'."""
    if not values:
        return None
    if len(values) > 1:
        raise OpenAIError(401, "Send one Authorization header, not several.", code=code)
    match = _BEARER.fullmatch(values[0])
    if match is None:
        raise OpenAIError(
            401, "Malformed Authorization header; expected 'Bearer KEY' (one space, no padding).", code=code
        )
    return match.group(1)


class TenantResolver:
    def __init__(self, config: GatewayConfig) -> None:
        self._by_digest = {digest: t.name for t in config.tenants if (digest := t.key_digest())}
        # With no keys configured the gateway only starts on loopback (config.check_exposure),
        # where everything is the one tenant "default".
        self.open = not self._by_digest

    def resolve(self, headers: Headers, x_api_key: bool = False) -> str:
        """`headers`: the request's. `x_api_key`: the key may come as `x-api-key` too (Anthropic SDKs)."""
        if self.open:
            return DEFAULT_TENANT
        key = bearer_token(headers.getlist("authorization"), "invalid_api_key")
        if x_api_key:
            key = _either_header(headers)
        if key is None:
            raise OpenAIError(
                401, "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.", code="missing_api_key"
            )
        digest = hashlib.sha256(key.encode()).hexdigest()
        for known, tenant in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return tenant
        raise OpenAIError(401, "Incorrect API key provided.", code="invalid_api_key")


def _either_header(headers: Headers) -> str | None:
    """The key from Bearer (already checked strictly) or `x-api-key`; two different keys are a 401."""
    values = headers.getlist("x-api-key")
    if len(values) > 1:
        raise OpenAIError(401, "Send one x-api-key header, not several.", code="invalid_api_key")
    if values and _KEY.fullmatch(values[0]) is None:
        raise OpenAIError(
            401, "Malformed x-api-key header; expected the key alone, no padding.", code="invalid_api_key"
        )
    try:
        return api_key_from_headers(headers)
    except ProtocolError as exc:
        raise OpenAIError(exc.status, exc.message, code=exc.code) from exc
