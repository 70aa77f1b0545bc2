"""gateway.yaml, read through the same schema reader as the policy file (policies/validation.py).

Each section's dataclass lives beside the code that owns it (gateway/upstream/settings.py,
gateway/edge/limits.py, gateway/edge/tenants.py, gateway/cache/settings.py, gateway/admin/settings.py,
gateway/incontext/settings.py, gateway/cpu_share.py, gateway/upstream/circuit_breaker.py); its
fields are the schema, each default written once, there.
"""

from gateway.config.gateway_config import (
    BUNDLED_UPSTREAM,
    BackendConfig,
    GatewayConfig,
    check_exposure,
    load_config,
    parse_config,
)
from gateway.config.reader import ConfigError

__all__ = [
    "BUNDLED_UPSTREAM",
    "BackendConfig",
    "ConfigError",
    "GatewayConfig",
    "check_exposure",
    "load_config",
    "parse_config",
]
