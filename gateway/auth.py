"""API key -> tenant. The tenant is part of every cache key, so this decides isolation."""

import hashlib
import hmac

from gateway.config import DEFAULT_TENANT, GatewayConfig
from gateway.errors import OpenAIError


class TenantResolver:
    def __init__(self, config: GatewayConfig) -> None:
        self._by_digest = {t.key_digest(): t.name for t in config.tenants if t.key_digest()}
        # With no keys configured the gateway only starts on loopback (config.check_exposure),
        # where everything is the one tenant "default".
        self.open = not self._by_digest

    def resolve(self, authorization: str | None) -> str:
        if self.open:
            return DEFAULT_TENANT
        if not authorization:
            raise OpenAIError(401, "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.", code="missing_api_key")
        scheme, _, key = authorization.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise OpenAIError(401, "Malformed Authorization header; expected 'Bearer KEY'.", code="invalid_api_key")
        digest = hashlib.sha256(key.strip().encode()).hexdigest()
        for known, tenant in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                return tenant
        raise OpenAIError(401, "Incorrect API key provided.", code="invalid_api_key")
