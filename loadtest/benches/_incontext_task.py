"""The `incontext` bench's task: a tenant's house formats, with exact reference answers.

Each family turns the values in a question into a code of a fixed, made-up format (ticket
codes, SKUs, room codes, house-style dates, invoice numbers). Nothing in a question says what
the format is, so a model without examples cannot know it (SmolLM2 answers in prose); one
example of the same family shows it, and copying digits into a pattern is within reach of a
135M model. Examples of another family show the wrong format. So: no examples ~0, random
examples (mostly other families) low, semgate's (nearest past questions: the same family) high.

Stored questions and test questions use different wordings and different values, so a test
question never hits the cache (the number guard vetoes such near-duplicates) but its nearest
stored questions are its own family.
"""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    family: str
    question: str
    reference: str


def _ticket(rng: random.Random, wording: int) -> Item:
    n = rng.randint(100, 9999)
    q = ("What is the support ticket code for order {n}?", "Give me the ticket code of order {n}.",
         "Ticket code for order number {n}, please?")[wording].format(n=n)
    return Item("ticket", q, f"TCK-{n}")


def _sku(rng: random.Random, wording: int) -> Item:
    n, size = rng.randint(10, 999), rng.choice("SMLX")
    q = ("What is the SKU for product {n} in size {s}?", "SKU of product {n}, size {s}?",
         "Which SKU is product {n} in size {s}?")[wording].format(n=n, s=size)
    return Item("sku", q, f"SKU-{n}-{size}")


def _room(rng: random.Random, wording: int) -> Item:
    floor, room = rng.randint(1, 9), rng.randint(1, 40)
    q = ("Which room code is floor {f}, room {r}?", "Room code for floor {f}, room {r}?",
         "What is the room code of room {r} on floor {f}?")[wording].format(f=floor, r=room)
    return Item("room", q, f"R{floor}-{room:02d}")


def _date(rng: random.Random, wording: int) -> Item:
    y, m, d = rng.randint(2015, 2025), rng.randint(1, 12), rng.randint(1, 28)
    iso = f"{y}-{m:02d}-{d:02d}"
    q = ("Write the date {iso} in our house style.", "Put {iso} into house date style.",
         "How is {iso} written in house style?")[wording].format(iso=iso)
    return Item("date", q, f"{d:02d}.{m:02d}.{y}")


def _invoice(rng: random.Random, wording: int) -> Item:
    customer, year = rng.randint(10, 99), rng.randint(2019, 2025)
    q = ("What is the invoice number for customer {c} in {y}?", "Invoice number of customer {c} for {y}?",
         "Which invoice number goes with customer {c}, year {y}?")[wording].format(c=customer, y=year)
    return Item("invoice", q, f"INV-{year}-{customer}")


FAMILIES = (_ticket, _sku, _room, _date, _invoice)


def build(stored_per_family: int, feedback_per_family: int, test_per_family: int,
          seed: int) -> tuple[list[Item], list[Item], list[Item]]:
    """(stored: the strong model's past answers, feedback: questions whose answers get feedback, tests)."""
    rng = random.Random(seed)
    stored, feedback, tests = [], [], []
    for family in FAMILIES:
        stored += [family(rng, i % 2) for i in range(stored_per_family)]
        feedback += [family(rng, i % 3) for i in range(feedback_per_family)]
        tests += [family(rng, (2, 0, 1)[i % 3]) for i in range(test_per_family)]
    rng.shuffle(feedback)
    rng.shuffle(tests)
    return stored, feedback, tests


def correct(answer: str, reference: str) -> bool:
    """Exact: the answer's first line, without surrounding spaces, quotes or a final period."""
    first = answer.strip().splitlines()[0] if answer.strip() else ""
    return first.strip().strip("\"'`").rstrip(".").strip() == reference
