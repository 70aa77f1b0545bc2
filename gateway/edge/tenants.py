"""What gateway.yaml says about the tenants (`tenants:`): who may call, each by the digest of its API key.

Read by gateway/config/ against these fields; gateway/edge/auth.py maps a request's key to its tenant.
"""

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from policies.constraints import checked

DEFAULT_TENANT = "default"  # the tenant of every request while no tenant has a key
_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class TenantConfig:
    name: str
    # The key is never stored in the config in clear: its SHA-256, or an env variable holding it.
    api_key_sha256: str | None = checked(None, expects="a hex SHA-256")
    api_key_env: str | None = checked(None, expects="an environment variable name")

    def problems(self) -> Iterator[tuple[str, str]]:
        """The rules across fields, as (field path, what is wrong); a wrong digest is never echoed
        back, since an operator may have pasted the key itself there."""
        if (self.api_key_sha256 is None) == (self.api_key_env is None):
            yield "", "set exactly one of api_key_sha256 or api_key_env"
        digest = self.api_key_sha256
        if digest is not None and (len(digest) != 64 or not _HEX.issuperset(digest)):
            yield "api_key_sha256", "expected 64 hex characters (sha256 of the key)"

    def key_digest(self) -> str | None:
        if self.api_key_sha256:
            return self.api_key_sha256.lower()
        key = os.environ.get(self.api_key_env or "")
        return hashlib.sha256(key.encode()).hexdigest() if key else None
