"""The category policy over the admin API: read it, check a candidate, replace it in place.

A replacement goes through the same hot-reload path as an edited policy file: it is
validated whole, and a rejected one changes nothing. It lasts until the policy file
changes or the gateway restarts; the file stays the durable source.
"""

import asyncio
from pathlib import Path
from typing import Any

from gateway.admin.call import Call
from gateway.edge.errors import OpenAIError
from policies.errors import PolicyError
from policies.loader import parse_policy_text
from policies.schema import PolicySet

ADMIN_SOURCE = "<admin>"
KEPT_TEXTS = 16


class PolicyAdmin:
    def __init__(self) -> None:
        self._texts: dict[int, str] = {}  # version -> the YAML an admin applied
        self._lock = asyncio.Lock()

    async def get(self, call: Call) -> dict[str, Any]:
        active = call.ctx.require_layer().policies.current
        source = active.policies.source
        text = (
            self._texts.get(active.version)
            if source == ADMIN_SOURCE
            else await asyncio.to_thread(_file_text_in_force, source, active.policies)
        )
        return {"version": active.version, "source": source, "yaml": text, "categories": list(active.policies.names)}

    async def validate(self, call: Call) -> dict[str, Any]:
        try:
            policy_set = await asyncio.to_thread(parse_policy_text, (call.body or {})["yaml"], ADMIN_SOURCE)
        except PolicyError as error:
            return {"valid": False, "errors": [e.as_dict() for e in error.errors], "categories": []}
        return {"valid": True, "errors": [], "categories": list(policy_set.names)}

    async def replace(self, call: Call) -> dict[str, Any]:
        service, layer = call.ctx.require_started()
        body = call.body or {}  # validated: the schema requires one
        text, base = body["yaml"], body.get("base_version")
        async with self._lock:
            current = layer.policies.current.version
            if base is not None and base != current:
                raise OpenAIError(
                    409,
                    f"The policy changed meanwhile: version {current} is in force, not {base}. "
                    "Reload it and apply your change again.",
                    param="base_version",
                    code="version_conflict",
                )
            result = await service.reload_policies(text, source=ADMIN_SOURCE)
            if not result.accepted:
                raise PolicyRejected(result.version, [e.as_dict() for e in result.errors])
            self._texts[result.version] = text
            for old in sorted(self._texts)[:-KEPT_TEXTS]:
                del self._texts[old]
        return {"accepted": True, "version": result.version}


class PolicyRejected(OpenAIError):
    """422 in the usual error shape, plus every problem with its line under `error.issues`."""

    def __init__(self, version: int, issues: list[dict[str, Any]]) -> None:
        super().__init__(
            422,
            f"The policy was rejected ({len(issues)} problem(s)); version {version} stays in force.",
            param="yaml",
            code="invalid_policy",
        )
        self.issues = issues

    def body(self) -> dict:
        out = super().body()
        out["error"]["issues"] = self.issues
        return out


def _file_text_in_force(path: str, in_force: PolicySet) -> str | None:
    """The file's text if it is what is in force; None when the file changed since (or is gone)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        return text if parse_policy_text(text, path) == in_force else None
    except (OSError, PolicyError):
        return None
