"""Per-request service-level objectives: time to first token, time per output token, or a
deadline for the whole answer; each optional. They come from request headers (the
gateway forwards its category policy's SLO there) or the caller of `add_request`."""

from collections.abc import Mapping
from dataclasses import dataclass

from gpu_backend.errors import InvalidRequest

HEADER_PREFIX = "x-semgate-slo-"
CATEGORY_HEADER = "x-semgate-category"


@dataclass(frozen=True)
class RequestSLO:
    ttft_s: float | None = None
    tpot_s: float | None = None
    # The whole answer within this many seconds of arrival (batch-style jobs).
    deadline_s: float | None = None
    # Which history the output-length estimate learns from (e.g. the gateway's category).
    category: str = ""

    def __post_init__(self) -> None:
        for name in ("ttft_s", "tpot_s", "deadline_s"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise InvalidRequest(f"{name} must be positive, got {value}")

    @property
    def is_set(self) -> bool:
        return self.ttft_s is not None or self.tpot_s is not None or self.deadline_s is not None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> "RequestSLO":
        """x-semgate-slo-ttft-ms, x-semgate-slo-tpot-ms, x-semgate-slo-deadline-ms (milliseconds)
        and x-semgate-category; ValueError on a malformed value."""

        def seconds(name: str) -> float | None:
            raw = headers.get(HEADER_PREFIX + name)
            if raw is None or raw == "":
                return None
            try:
                return float(raw) / 1000
            except ValueError:
                raise InvalidRequest(
                    f"header {HEADER_PREFIX + name} must be a number of milliseconds, got {raw!r}"
                ) from None

        return cls(seconds("ttft-ms"), seconds("tpot-ms"), seconds("deadline-ms"), headers.get(CATEGORY_HEADER, ""))

    def met(self, arrival: float, first_token: float | None, finish: float | None, num_output_tokens: int) -> bool:
        """Whether a finished request met every objective it carries."""
        if first_token is None or finish is None:
            return False
        if self.ttft_s is not None and first_token - arrival > self.ttft_s:
            return False
        decoding = num_output_tokens > 1
        if self.tpot_s is not None and decoding and (finish - first_token) / (num_output_tokens - 1) > self.tpot_s:
            return False
        return self.deadline_s is None or finish - arrival <= self.deadline_s
