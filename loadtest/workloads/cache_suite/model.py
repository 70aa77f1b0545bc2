"""The hand-written units of the suite and how each expands into labelled pairs.

A Family is one everyday question (with slots for the values that change its answer), its
paraphrases (should hit) and its traps (must miss). A Scenario is a conversation whose last
question depends on what was said before; an Offer is one that ends in the assistant offering
something and the user accepting. Every template is written once, by hand, for its own domain.
"""

from dataclasses import dataclass

Turns = tuple[tuple[str, str], ...]  # (role, template) pairs


@dataclass(frozen=True)
class Family:
    id: str
    base: str
    fills: tuple[dict[str, str], ...]
    hits: tuple[tuple[str, str], ...]  # (paraphrase kind, template)
    misses: tuple[tuple[str, str], ...]  # (trap kind, template)


@dataclass(frozen=True)
class Scenario:
    """Context + a last question that only makes sense after it.

    `entity` and `detail` name the slots the must-miss pairs change; each fill holds the
    replacement under the slot's name + "2" (another product or entity; another plan or amount).
    """

    id: str
    context: Turns
    reworded: Turns  # the same context in other words: the same answer applies
    question: str
    entity: str
    detail: str
    fills: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Offer:
    """The user asks, the assistant offers {offer}; the user accepts. {offer2} is another offer."""

    id: str
    ask: str
    offer: str
    ask_reworded: str
    offer_reworded: str
    fills: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Row:
    """One labelled pair in the `cache-quality` format."""

    a: str
    b: str
    duplicate: bool
    kind: str
    domain: str
    family: str
    split: str
    context_a: tuple[dict, ...] = ()
    context_b: tuple[dict, ...] = ()

    def as_json(self) -> dict:
        row = {"a": self.a, "b": self.b, "duplicate": self.duplicate, "kind": self.kind, "domain": self.domain,
               "family": self.family, "split": self.split}
        if self.context_a or self.context_b:
            row["context_a"], row["context_b"] = list(self.context_a), list(self.context_b)
        return row


def fill(template: str, values: dict[str, str]) -> str:
    return template.format(**values)


def messages(turns: Turns, values: dict[str, str]) -> tuple[dict, ...]:
    return tuple({"role": role, "content": fill(text, values)} for role, text in turns)


def swapped(values: dict[str, str], slot: str) -> dict[str, str]:
    """The same fill with `slot` taking its alternative value."""
    return {**values, slot: values[slot + "2"]}
