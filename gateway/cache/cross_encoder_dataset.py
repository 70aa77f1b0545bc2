"""The cross-encoder's training and calibration pairs, split by family so calibration never saw its data.

Three sources, each cut the same way: QQP `dev` is cut into worlds of the test split's size
(`world_slices`), and the last world is the held-out family; the everyday questions
(gateway/cache/cross_encoder_everyday.py) are held out by question, one in five.
- labelled: QQP's own pairs;
- retrieved: what the cache meets. In each world every `a` is stored and every `b` looks up its
  nearest stored questions (cosine of the int8 MiniLM vectors); a neighbour is a positive only when
  duplicate labels link it to the query. These are the look-alikes the verifier must reject;
- generated: rewrites of a world's questions and of the everyday ones (gateway/cache/cross_encoder_rewrites.py),
  a trap rewrite a negative and a harmless rewrite a positive, often on top of another harmless one so
  that the wording differs on both sides.
"""

import random
import zlib
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from gateway.cache.cross_encoder_everyday import PARAPHRASES, QUESTIONS
from gateway.cache.cross_encoder_rewrites import SAME, TRAPS, with_detail
from gateway.cache.evaluation import DuplicateLinks, Pair
from gateway.cache.text import normalise
from gateway.cache.verifier_world import world_slices


@dataclass(frozen=True)
class Labelled:
    a: str
    b: str
    label: int
    kind: str  # qqp | retrieved | a key of TRAPS or SAME | paraphrase


@dataclass
class Lookup:
    """One replayed cache lookup of a held-out world: its candidates (stored text, cosine, right?)."""

    query: str
    candidates: list[tuple[str, float, bool]]
    answerable: bool  # some stored question is linked to it
    exact: bool  # its own text is stored: the exact tier answers


@dataclass
class Dataset:
    train: list[Labelled] = field(default_factory=list)
    calibration: list[Labelled] = field(default_factory=list)  # held-out families, every source
    lookups: list[Lookup] = field(default_factory=list)  # the held-out world, replayed


def build(
    pairs: list[Pair],
    vectors: dict[str, np.ndarray],
    world_size: int,
    top_k: int,
    floor: float,
    sizes: dict[str, int],
    seed: int,
) -> Dataset:
    """`vectors`: text -> unit vector for every dev text; `sizes`: how many training pairs per source. The
    worlds are the feature verifier's (verifier_world.world_slices): its held-out world is held out here too."""
    rng = random.Random(seed)
    data = Dataset()
    worlds = world_slices(len(pairs), world_size)
    train_pairs = [pairs[i] for w in worlds[:-1] for i in w]
    held = [pairs[i] for i in worlds[-1]]
    qqp = [Labelled(p.a, p.b, int(p.duplicate), "qqp") for p in train_pairs]
    data.train += rng.sample(qqp, min(sizes["qqp"], len(qqp)))
    retrieved = [
        Labelled(lookup.query, text, int(right), "retrieved")
        for w in worlds[:-1]
        for lookup in replay([pairs[i] for i in w], vectors, top_k, floor)
        for text, _, right in lookup.candidates
    ]
    data.train += rng.sample(retrieved, min(sizes["retrieved"], len(retrieved)))
    questions = sorted({t for p in train_pairs for t in (p.a, p.b)})
    data.train += generated(rng.sample(questions, min(len(questions), sizes["generated"])), rng)
    everyday_train = [q for q in QUESTIONS if not _held_out_family(q)]
    for _ in range(sizes["everyday_rounds"]):
        data.train += generated(everyday_train, rng, every_trap=True)
    data.train += [Labelled(a, b, 1, "paraphrase") for a, b in PARAPHRASES if not _held_out_family(a)]
    rng.shuffle(data.train)

    data.lookups = replay(held, vectors, top_k, floor)
    # The held-out world's retrieved candidates calibrate (cross_encoder_calibration.py); these pairs report.
    data.calibration += rng.sample([Labelled(p.a, p.b, int(p.duplicate), "qqp") for p in held], min(len(held), 4000))
    held_questions = sorted({t for p in held for t in (p.a, p.b)})
    data.calibration += generated(rng.sample(held_questions, min(len(held_questions), sizes["generated"] // 4)), rng)
    everyday_held = [q for q in QUESTIONS if _held_out_family(q)]
    for _ in range(sizes["everyday_rounds"]):
        data.calibration += generated(everyday_held, rng, every_trap=True)
    data.calibration += [Labelled(a, b, 1, "paraphrase") for a, b in PARAPHRASES if _held_out_family(a)]
    return data


def replay(world: list[Pair], vectors: dict[str, np.ndarray], top_k: int, floor: float) -> list[Lookup]:
    """Store every `a`, look every `b` up: its top_k stored neighbours at or above `floor`, its own
    text excluded (the exact tier answers that one before the semantic tier runs)."""
    links = DuplicateLinks(world)
    stored: dict[str, str] = {}
    for p in world:
        stored.setdefault(normalise(p.a), p.a)
    texts = list(stored.values())
    groups = [links.group(t) for t in texts]
    present = set(groups)
    matrix = np.stack([vectors[t] for t in texts])
    lookups = []
    for start in range(0, len(world), 1024):
        chunk = world[start : start + 1024]
        sims = np.stack([vectors[p.b] for p in chunk]) @ matrix.T
        top = np.argsort(-sims, axis=1)[:, :top_k]
        for i, p in enumerate(chunk):
            group, key = links.group(p.b), normalise(p.b)
            candidates = [
                (texts[j], float(sims[i, j]), groups[j] == group)
                for j in top[i]
                if sims[i, j] >= floor and normalise(texts[j]) != key
            ]
            lookups.append(Lookup(p.b, candidates, group in present, key in stored))
    return lookups


def generated(questions: list[str], rng: random.Random, every_trap: bool = False) -> list[Labelled]:
    """Per question: one trap (where any applies; `every_trap`: each that applies) and one harmless
    rewrite, each side possibly reworded."""
    out = []
    for q in questions:
        detailed = with_detail(q, rng) if rng.random() < 0.35 else None
        if detailed:  # the trap changes the detail just added
            q, kind = detailed
            trapped = TRAPS[kind](q, rng)
            if trapped and normalise(trapped) != normalise(q):
                out.append(_ordered(_maybe_reworded(q, rng, 0.3), _maybe_reworded(trapped, rng, 0.2), 0, kind, rng))
        base = _maybe_reworded(q, rng, 0.3)
        if every_trap:
            for kind, rewrite in TRAPS.items():
                trapped = rewrite(q, rng)
                if trapped and normalise(trapped) != normalise(q):
                    out.append(_ordered(base, _maybe_reworded(trapped, rng, 0.2), 0, kind, rng))
        # Negation applies to almost any question: it goes last, or the rarer traps would seldom be made.
        kinds = rng.sample([k for k in TRAPS if k != "negation"], len(TRAPS) - 1)
        for kind in [] if every_trap else ["negation", *kinds] if rng.random() < 0.25 else [*kinds, "negation"]:
            trapped = TRAPS[kind](q, rng)
            if trapped and normalise(trapped) != normalise(q):
                out.append(_ordered(base, _maybe_reworded(trapped, rng, 0.2), 0, kind, rng))
                break
        for kind in rng.sample(list(SAME), len(SAME)):
            same = SAME[kind](q, rng)
            if same and normalise(same) != normalise(q):
                out.append(_ordered(base, _maybe_reworded(same, rng, 0.2), 1, kind, rng))
                break
    return out


def kind_counts(pairs: list[Labelled]) -> Counter:
    return Counter((p.kind, p.label) for p in pairs)


def _maybe_reworded(text: str, rng: random.Random, chance: float) -> str:
    if rng.random() >= chance:
        return text
    return SAME[rng.choice(["greeting", "casual", "typo"])](text, rng) or text


def _ordered(a: str, b: str, label: int, kind: str, rng: random.Random) -> Labelled:
    # The cache reads (query, stored question); which side was rewritten must not matter.
    return Labelled(a, b, label, kind) if rng.random() < 0.5 else Labelled(b, a, label, kind)


def _held_out_family(question: str) -> bool:
    return zlib.crc32(question.encode()) % 5 == 0
