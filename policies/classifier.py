"""Which category a query belongs to: keyword/regex rules first, then its embedding's nearest examples.

The gateway embeds the last user message once for the cache lookup and passes that embedding in,
so classifying costs a regex scan and one small matrix product, never a second model call.
"""

import copy
import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from policies.prototypes import condense, normalize_rows
from policies.schema import DEFAULT_CATEGORY, CategoryPolicy, ClassifierSettings, ConfidenceCalibration, PolicySet
from policies.validation import PATTERN_FLAGS

EmbedMany = Callable[[Sequence[str]], np.ndarray]
RULE_PIECE_CHARS, RULE_OVERLAP_CHARS = 8192, 512


@dataclass(frozen=True)
class Classification:
    category: str
    confidence: float  # 1.0 for a rule; else CategoryClassifier.confidence (calibrated P(right) when configured)
    source: str  # "rule" | "embedding" | "default"


@dataclass(frozen=True)
class CategoryRule:
    category: str
    matchers: tuple[re.Pattern[str], ...]

    def matches(self, text: str) -> bool:
        return any(m.search(text, start, end) for start, end in _pieces(len(text)) for m in self.matchers)


def _pieces(length: int) -> list[tuple[int, int]]:
    """Overlapping (start, end) pieces of a text of `length` characters. One regex scan of a 256,000-character
    message holds the GIL, and so the gateway's event loop, for a few hundred milliseconds; a piece's for a few.
    A rule's match spans less than the overlap (rules are phrases; `SELECT ... FROM` is bounded), so none is
    lost; searched within the whole string, `^` and look-behinds still see the real text before a piece."""
    if length <= RULE_PIECE_CHARS + RULE_OVERLAP_CHARS:
        return [(0, length)]
    return [
        (i, min(i + RULE_PIECE_CHARS + RULE_OVERLAP_CHARS, length))
        for i in range(0, length - RULE_OVERLAP_CHARS, RULE_PIECE_CHARS)
    ]


class CategoryClassifier:
    def __init__(
        self,
        rules: Sequence[CategoryRule],
        names: Sequence[str],
        prototypes: np.ndarray,
        counts: Sequence[int],
        settings: ClassifierSettings,
        requirements: Sequence[tuple[re.Pattern[str], ...]] = (),
    ):
        """`prototypes` is (len(names), slots, dim): each category's unit prototypes, padded to `slots`.
        `requirements[i]`: patterns one of which a question must match for the embedding to choose names[i]
        (empty: none)."""
        self.rules = tuple(rules)
        self.names = tuple(names)
        self.requirements = tuple(requirements) or tuple(() for _ in names)
        self.counts = tuple(int(c) for c in counts)
        self.settings = settings
        categories, slots, dim = prototypes.shape
        self._matrix = np.ascontiguousarray(prototypes.reshape(categories * slots, dim), dtype=np.float32)
        self._slots = slots
        self._k = min(settings.top_k, slots) if slots else 0
        counts_array = np.asarray(counts)
        # Padding slots score -inf so they never enter a category's top k.
        self._padding = np.where(np.arange(slots)[None, :] < counts_array[:, None], 0.0, -np.inf).astype(np.float32)
        self._k_per_category = np.minimum(counts_array, self._k).astype(np.float32)

    @property
    def prototype_count(self) -> int:
        return sum(self.counts)

    @classmethod
    def build(cls, policies: PolicySet, embed_many: EmbedMany) -> "CategoryClassifier":
        settings = policies.classifier
        with_examples = [c for c in policies.categories if c.examples]
        texts = [text for c in with_examples for text in c.examples]
        vectors = normalize_rows(embed_many(texts)) if texts else np.zeros((0, 0), np.float32)
        groups, start = [], 0
        for category in with_examples:
            end = start + len(category.examples)
            groups.append(condense(vectors[start:end], settings.max_prototypes))
            start = end
        slots = max((len(g) for g in groups), default=0)
        dim = vectors.shape[1] if len(vectors) else 0
        prototypes = np.zeros((len(groups), slots, dim), np.float32)
        for i, group in enumerate(groups):
            prototypes[i, : len(group)] = group
        return cls(
            rules=rules_in_priority_order(policies.categories),
            names=[c.name for c in with_examples],
            prototypes=prototypes,
            counts=[len(g) for g in groups],
            settings=settings,
            requirements=[tuple(re.compile(p, PATTERN_FLAGS) for p in c.requires_patterns) for c in with_examples],
        )

    def classify(self, text: str, embedding: np.ndarray) -> Classification:
        for rule in self.rules:
            if rule.matches(text):
                return Classification(rule.category, 1.0, "rule")
        if not self.names:
            return Classification(DEFAULT_CATEGORY, 0.0, "default")
        best = self.embedding_choice(text, embedding)
        if best is None:
            return Classification(DEFAULT_CATEGORY, 0.0, "default")
        confidence = self.confidence(self.scores(embedding), best)
        if confidence < self.settings.confidence_floor:
            return Classification(DEFAULT_CATEGORY, confidence, "default")
        return Classification(self.names[best], confidence, "embedding")

    def embedding_choice(self, text: str, embedding: np.ndarray) -> int | None:
        """The index in `names` of the best-scoring category `text` has the required words for, if any.
        A category whose required words are absent cannot be chosen; its score still counts as a rival."""
        if not self.names:
            return None
        # In pieces, as the rules: one scan of a long message with a long alternation would hold the GIL.
        pieces = _pieces(len(text))
        allowed = np.array(
            [
                not needs or any(p.search(text, start, end) for p in needs for start, end in pieces)
                for needs in self.requirements
            ]
        )
        if not allowed.any():
            return None
        return int(np.where(allowed, self.scores(embedding), -np.inf).argmax())

    def recalibrated(self, calibration: ConfidenceCalibration, floor: float) -> "CategoryClassifier":
        """The same rules and prototypes with another confidence calibration and floor (for fitting them)."""
        other = copy.copy(self)
        other.settings = dataclasses.replace(self.settings, calibration=calibration, confidence_floor=floor)
        return other

    def confidence(self, scores: np.ndarray, chosen: int) -> float:
        """How sure the choice of `chosen` is: the calibrated P(right) from its score and its lead over the
        best other category (negative when a category it may not take scored higher: a question close to
        two categories is a guess), or its raw score uncalibrated."""
        score = float(scores[chosen])
        calibration = self.settings.calibration
        if not calibration.enabled:
            return score
        others = np.delete(scores, chosen)
        lead = score - float(others.max()) if len(others) else score
        return float(1.0 / (1.0 + np.exp(-(calibration.score * score + calibration.margin * lead + calibration.bias))))

    def scores(self, embedding: np.ndarray) -> np.ndarray:
        """Per category (in `names` order): the mean cosine of the query to its k nearest prototypes."""
        query = np.asarray(embedding, dtype=np.float32).reshape(-1)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        similarities = (self._matrix @ query).reshape(len(self.names), self._slots) + self._padding
        top = np.partition(similarities, self._slots - self._k, axis=1)[:, self._slots - self._k :]
        return np.where(np.isfinite(top), top, 0.0).sum(axis=1) / self._k_per_category


def rules_in_priority_order(categories: Sequence[CategoryPolicy]) -> list[CategoryRule]:
    """Personal categories first (a query that mentions the user's account must never land in a shared,
    long-lived category), then file order."""
    ordered = [c for c in categories if c.personal] + [c for c in categories if not c.personal]
    rules = []
    for category in ordered:
        matchers = [re.compile(p, PATTERN_FLAGS) for p in category.patterns]
        if category.keywords:
            words = "|".join(re.escape(k) for k in category.keywords)
            matchers.append(re.compile(rf"(?<!\w)(?:{words})(?!\w)", PATTERN_FLAGS))
        if matchers:
            rules.append(CategoryRule(category.name, tuple(matchers)))
    return rules
