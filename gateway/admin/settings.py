"""What gateway.yaml says about the admin API (`admin:`)."""

import os
from dataclasses import dataclass

from policies.constraints import checked


@dataclass(frozen=True)
class AdminConfig:
    """The admin API's token lives in this environment variable; unset, the admin API is off.
    While a token is set, /metrics (request counts by tenant name) asks for it too, unless
    `public_metrics` opens it to anyone who reaches the port."""

    token_env: str = checked("SEMGATE_ADMIN_TOKEN", expects="an environment variable name")
    public_metrics: bool = False

    def token(self) -> str | None:
        return os.environ.get(self.token_env) or None
