"""The policy objects: what one category of traffic gets from the cache, the classifier and the router.

Every field carries its default (the built-in default under the YAML `defaults:` section) and, in its
metadata, the constraint that validation enforces, so the schema and its checks cannot drift apart.
"""

from dataclasses import dataclass, field

from policies.constraints import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, UNIT, Matches, OneOf, Range, checked

SCOPES = ("private", "shared")
EVICTIONS = ("lru", "lfu")
CATEGORY_NAME_PATTERN = r"[a-z][a-z0-9_-]*"
DEFAULT_CATEGORY = "default"
SHARED_NAMESPACE = "*shared*"


@dataclass(frozen=True)
class GuardPolicy:
    """Checks that veto a semantic hit when the two questions differ in a detail that changes the answer."""

    numbers: bool = True
    dates: bool = True
    negation: bool = True
    entities: bool = True
    antonyms: bool = True  # "cheap" / "expensive" (WordNet's antonyms, gateway/cache/antonyms.txt)
    order: bool = True  # "from A to B" / "from B to A", "A beat B" / "B beat A"
    times: bool = True  # "7 am" / "7 pm" ("19:00" is "7 pm")
    units: bool = True  # "10 miles" / "10 km", "$100" / "€100"
    scope: bool = True  # all/some, before/after, within/after, included/excluded


@dataclass(frozen=True)
class StreamReplayPolicy:
    chunk_tokens: int = checked(8, AT_LEAST_ONE, "tokens per SSE chunk when a hit is replayed as a stream")


@dataclass(frozen=True)
class AdaptivePolicy:
    """How far an overloaded upstream may loosen this category (bounds, not targets)."""

    min_similarity: float = checked(0.85, UNIT, "lowest similarity threshold under load")
    min_verifier: float = checked(0.4, UNIT, "lowest verifier threshold under load")
    max_ttl_factor: float = checked(2.0, Range(1.0, None), "TTL multiplier at full load")


@dataclass(frozen=True)
class InContextPolicy:
    enabled: bool = False
    k: int = checked(2, AT_LEAST_ONE, "examples prepended to a miss")
    token_budget: int = checked(1024, AT_LEAST_ONE, "tokens the examples may take")
    categories: tuple[str, ...] = checked((), None, "categories whose entries may serve as examples (empty: its own)")


@dataclass(frozen=True)
class RoutingPolicy:
    models: tuple[str, ...] = checked((), None, "models this category may be routed to, preferred first")


@dataclass(frozen=True)
class SLOClass:
    """Objectives a category's requests carry to a backend that schedules by SLO (JITServe's goodput);
    each optional, in milliseconds. The gateway sends them as x-semgate-slo-* headers."""

    name: str
    ttft_ms: float | None = checked(None, POSITIVE, "time to the first token")
    tpot_ms: float | None = checked(None, POSITIVE, "time per output token after the first")
    deadline_ms: float | None = checked(None, POSITIVE, "the whole answer within this long of arrival")


@dataclass(frozen=True)
class CategoryPolicy:
    name: str = field(metadata={"check": Matches(CATEGORY_NAME_PATTERN, "a valid category name")})
    description: str = ""
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    # The embedding may choose this category only for a question matching one of these (the shipped
    # `personal` needs a first-person word: "how does a credit score work" is not about an account).
    requires_patterns: tuple[str, ...] = ()
    cacheable: bool = True
    similarity_threshold: float = checked(0.9, UNIT, "cosine floor for a semantic candidate")
    verify: bool = True
    verifier_threshold: float = checked(0.5, UNIT, "minimum duplicate probability for a hit")
    ttl_seconds: float = checked(3600.0, POSITIVE, "lifetime of an entry")
    stale_if_error_s: float = checked(
        0.0, NON_NEGATIVE, "how long past its TTL an entry may still answer while the upstream fails (0: never)"
    )
    max_entries: int = checked(10_000, AT_LEAST_ONE, "entries per (tenant, category)")
    eviction: str = checked("lru", OneOf(EVICTIONS))
    scope: str = checked("private", OneOf(SCOPES))
    personal: bool = False
    cache_tool_calls: bool = False
    # An answer cut at the max_tokens its request set is served only to requests with the same bound.
    cache_cut_answers: bool = True
    guards: GuardPolicy = GuardPolicy()
    stream_replay: StreamReplayPolicy = StreamReplayPolicy()
    adaptive: AdaptivePolicy = AdaptivePolicy()
    incontext: InContextPolicy = InContextPolicy()
    routing: RoutingPolicy = RoutingPolicy()
    slo_class: str | None = None  # a name under the policy's slo_classes (null: its requests carry no SLO)

    @property
    def is_shared(self) -> bool:
        """Entries pooled across tenants: only when opted in, and never for personal data."""
        return self.scope == "shared" and not self.personal

    def namespace_tenant(self, tenant: str) -> str:
        return SHARED_NAMESPACE if self.is_shared else tenant


# Fields a category names itself; everything else may also appear under `defaults:`.
CATEGORY_ONLY_FIELDS = ("name", "description", "examples", "keywords", "patterns", "requires_patterns")


@dataclass(frozen=True)
class ConfidenceCalibration:
    """P(the best category is the right one) = sigmoid(score * best + margin * (best - runner-up) + bias),
    fitted by `semgate bench classify --fit-calibration`; all zero: the confidence is the raw best score."""

    score: float = checked(0.0, None, "weight of the best category's score")
    margin: float = checked(0.0, None, "weight of its lead over the runner-up")
    bias: float = checked(0.0, None, "intercept")

    @property
    def enabled(self) -> bool:
        return bool(self.score or self.margin or self.bias)


@dataclass(frozen=True)
class ClassifierSettings:
    top_k: int = checked(2, AT_LEAST_ONE, "a category scores the mean cosine of its k nearest prototypes")
    max_prototypes: int = checked(64, AT_LEAST_ONE, "examples per category beyond this are condensed by k-means")
    confidence_floor: float = checked(0.4, UNIT, "below this confidence the query goes to the default category")
    calibration: ConfidenceCalibration = ConfidenceCalibration()


@dataclass(frozen=True)
class LoadSettings:
    """Turns upstream load samples into a smoothed load index (1.0 = saturated) with hysteresis."""

    high_mark: float = checked(1.0, POSITIVE, "load index that enters overload")
    low_mark: float = checked(0.6, NON_NEGATIVE, "load index under which overload ends")
    half_life_seconds: float = checked(5.0, POSITIVE, "smoothing of the load index")
    latency_ratio_saturated: float = checked(
        3.0, Range(1.0, None, low_open=True), "first-token time / baseline read as load 1"
    )
    throttle_rate_saturated: float = checked(0.05, Range(0.0, 1.0, low_open=True), "429/503 share read as load 1")
    baseline_half_life_seconds: float = checked(300.0, POSITIVE, "how slowly the first-token baseline is learned")


@dataclass(frozen=True)
class PolicySet:
    categories: tuple[CategoryPolicy, ...]
    defaults: CategoryPolicy
    classifier: ClassifierSettings = ClassifierSettings()
    load: LoadSettings = LoadSettings()
    slo_classes: tuple[SLOClass, ...] = ()
    source: str = "<builtin>"
    # derived from categories in __post_init__: not an argument, and left out of equality and repr
    _by_name: dict[str, CategoryPolicy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.categories})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    @property
    def default(self) -> CategoryPolicy:
        return self._by_name[DEFAULT_CATEGORY]

    def slo_class(self, name: str | None) -> SLOClass | None:
        """The named SLO class; None for no name, or a name this policy does not define."""
        return next((c for c in self.slo_classes if c.name == name), None)

    def get(self, name: str) -> CategoryPolicy:
        """The category's policy; an unknown name (say, from an older policy) falls back to the default."""
        return self._by_name.get(name, self.default)
