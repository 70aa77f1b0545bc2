"""The client's API key from `Authorization: Bearer ...` (OpenAI SDKs) or `x-api-key` (Anthropic SDKs).

Both headers are credentials for the same tenant table. A request carrying two different keys is
refused rather than resolved by a precedence rule, so no header can quietly override the other.
"""

from collections.abc import Mapping

from gateway.protocols.errors import ProtocolError


def api_key_from_headers(headers: Mapping[str, str]) -> str | None:
    """The key, None when neither header carries one; a 401 when the two name different keys."""
    lowered = {name.lower(): value for name, value in headers.items()}
    bearer = None
    scheme, _, token = lowered.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        bearer = token.strip()
    header_key = lowered.get("x-api-key", "").strip() or None
    if bearer and header_key and bearer != header_key:
        raise ProtocolError(
            401, "The Authorization and x-api-key headers carry different API keys.", None, "conflicting_api_keys"
        )
    return bearer or header_key
