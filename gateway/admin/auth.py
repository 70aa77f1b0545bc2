"""Who may use the admin API: the holder of the admin token, nobody else.

The token lives in an environment variable (its name is in the config, `admin.token_env`);
without it the admin API is off. A tenant's API key is recognised and refused with 403,
so a client that mixed up its keys learns why instead of guessing.
"""

import hashlib
import hmac

from gateway.config import GatewayConfig
from gateway.edge.auth import HeaderList, bearer_token
from gateway.edge.errors import OpenAIError


class AdminAuth:
    def __init__(self, config: GatewayConfig) -> None:
        self.token_env = config.admin.token_env
        token = config.admin.token()
        self._digest = hashlib.sha256(token.encode()).digest() if token else None
        self._tenant_digests = [bytes.fromhex(d) for t in config.tenants if (d := t.key_digest())]

    @property
    def enabled(self) -> bool:
        return self._digest is not None

    def check(self, headers: HeaderList) -> None:
        """Raises the OpenAI-shaped 401 or 403 unless the request's `headers` carry the admin token."""
        if self._digest is None:
            raise OpenAIError(403, f"admin API disabled: set {self.token_env}", code="admin_disabled")
        token = bearer_token(headers.getlist("authorization"), "invalid_admin_token")
        if token is None:
            raise OpenAIError(
                401, "The admin API needs the admin token: 'Authorization: Bearer TOKEN'.", code="missing_admin_token"
            )
        digest = hashlib.sha256(token.encode()).digest()
        if hmac.compare_digest(digest, self._digest):
            return
        if any(hmac.compare_digest(digest, tenant) for tenant in self._tenant_digests):
            raise OpenAIError(
                403, "This is a tenant API key; the admin API takes the admin token.", code="tenant_key_not_admin"
            )
        raise OpenAIError(401, "Incorrect admin token.", code="invalid_admin_token")
