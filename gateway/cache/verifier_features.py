"""Features of a (query, cached question) pair for the duplicate verifier.

Cosine similarity says two questions are about the same thing; these features say whether
they ask the same thing: how much wording they share (weighted by how rare the words are),
what each says that the other does not, whether they disagree on facts the guards check,
and how the candidate stands among the query's other neighbours (a lone close match is a
better bet than one of many look-alikes).
"""

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gateway.cache.canonical import corrected, form_of
from gateway.cache.frames import plainest
from gateway.cache.guards import Facts, extract_facts, mentions
from gateway.cache.substitutions import slot_difference, slots
from gateway.cache.text import char_ngrams, content_words, question_word, stem, words

IDF_BUCKETS = 1 << 16
SCALAR_FEATURES = (
    "cosine",
    "word_jaccard",
    "content_jaccard",
    "idf_jaccard",
    "char3_jaccard",
    "length_ratio",
    "word_count_diff",
    "unmatched_count",
    "unmatched_max_idf",
    "unmatched_idf_sum",
    "one_sided_unmatched",
    "numbers_differ",
    "dates_differ",
    "negation_differs",
    "entities_differ",
    "entities_substituted",
    "question_word_same",
    "first_word_same",
    "cosine_sq",
)
CONTEXT_FEATURES = ("rank", "top_similarity", "gap_to_top", "gap_to_next", "neighbours_above_0_9", "neighbours")
# The aligned diff of the two canonical forms' content words, with WordNet's related words counted as the same
# (gateway/cache/substitutions.py): a synonym swap changes no meaning, one unrelated word in one place is a trap's
# shape. Weights trained before these existed read the features they were trained on (Verifier.raw_logits).
SLOT_FEATURES = ("slot_changes", "slot_unrelated", "slot_unrelated_max_idf", "slot_minimal_pair")
FEATURES = SCALAR_FEATURES + CONTEXT_FEATURES + SLOT_FEATURES
# Neighbours below this similarity are not counted as context (and never reach the verifier:
# policies keep their similarity floor at or above it).
CONTEXT_FLOOR = 0.6


def word_bucket(word: str) -> int:
    return zlib.crc32(word.encode()) % IDF_BUCKETS


@dataclass(frozen=True)
class QuestionView:
    """Everything the features need from one question, computed once per question."""

    words: frozenset[str]
    content: frozenset[str]  # stemmed, stopwords removed
    ngrams: frozenset[str]
    length: int
    word_count: int
    question_word: str
    first_word: str
    facts: Facts
    text: str = ""  # the question itself, for a verifier that reads both questions together (verifier_stack.py)
    form: str = ""  # what the wording features read: the canonical form, or the text as written
    asked: str = ""  # the form with its frames said the plainest way (frames.py): what `_same_form` compares
    slots: tuple[str, ...] = ()  # the form's content words in order, as the substitution guard aligns them


def view(text: str, as_written: bool = False) -> QuestionView:
    """The wording features read the canonical form (no greeting, frame or typo to tell two wordings apart),
    or with `as_written` the text itself (a conversation's turns, as the context check reads them); the facts
    the guards compare are read off the text as written, its slips of the keyboard corrected ("8 mniutes" is
    8 minutes; names and numbers are never corrected)."""
    fixed = text if as_written else corrected(text)
    form = text if as_written else form_of(fixed)
    tokens = words(form)
    return QuestionView(
        words=frozenset(tokens),
        content=frozenset(stem(w) for w in content_words(form)),
        ngrams=frozenset(char_ngrams(form)),
        length=len(form.strip()),
        word_count=len(tokens),
        question_word=question_word(form),
        first_word=tokens[0] if tokens else "",
        facts=extract_facts(fixed),
        text=text,
        form=form,
        asked=form if as_written else plainest(form),
        slots=slots(tokens),
    )


def scalar_features(q: QuestionView, c: QuestionView, cosine: float, idf: np.ndarray) -> list[float]:
    only_q, only_c = q.content - c.content, c.content - q.content
    unmatched = only_q | only_c
    weight = {w: float(idf[word_bucket(w)]) for w in q.content | c.content}
    shared_weight = sum(weight[w] for w in q.content & c.content)
    total_weight = sum(weight.values())
    missing_q = {e for e in q.facts.entities if not mentions(c.facts, e)}
    missing_c = {e for e in c.facts.entities if not mentions(q.facts, e)}
    return [
        cosine,
        _jaccard(q.words, c.words),
        _jaccard(q.content, c.content),
        shared_weight / total_weight if total_weight else 1.0,
        _jaccard(q.ngrams, c.ngrams),
        min(q.length, c.length) / max(q.length, c.length, 1),
        math.log1p(abs(q.word_count - c.word_count)),
        math.log1p(len(unmatched)),
        max((weight[w] for w in unmatched), default=0.0),
        sum(weight[w] for w in unmatched),
        float(bool(only_q) != bool(only_c)),
        float(q.facts.numbers != c.facts.numbers),
        float(q.facts.dates != c.facts.dates),
        float(q.facts.negated != c.facts.negated),
        float(bool(missing_q or missing_c)),
        float(bool(missing_q and missing_c)),
        float(q.question_word == c.question_word),
        float(q.first_word == c.first_word),
        cosine * cosine,
    ]


def context_of(similarity: float, neighbour_similarities: Sequence[float]) -> list[float]:
    """How a candidate stands among all the query's neighbours (itself included)."""
    considered = [s for s in neighbour_similarities if s >= CONTEXT_FLOOR]
    top = max(considered, default=similarity)
    rank = sum(s > similarity for s in considered)
    below = max((s for s in considered if s < similarity), default=CONTEXT_FLOOR)
    above = sum(s >= 0.9 for s in considered)
    return [float(rank), top, top - similarity, similarity - below, float(above), float(len(considered))]


def slot_features(q: QuestionView, c: QuestionView, idf: np.ndarray) -> list[float]:
    difference = slot_difference(q.slots, c.slots)
    return [
        math.log1p(difference.changes),
        math.log1p(len(difference.unrelated)),
        max((float(idf[word_bucket(stem(w))]) for w in difference.unrelated), default=0.0),
        float(difference.minimal_pair),
    ]


def pair_features(q: QuestionView, c: QuestionView, cosine: float, context: list[float], idf: np.ndarray) -> np.ndarray:
    return np.asarray(scalar_features(q, c, cosine, idf) + context + slot_features(q, c, idf), dtype=np.float32)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0
