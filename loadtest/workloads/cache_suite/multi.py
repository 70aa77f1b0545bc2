"""Multi-turn pairs: the same last question after contexts that do or do not change its answer."""

import random

from loadtest.workloads.cache_suite.domains import SPLIT, domain_name
from loadtest.workloads.cache_suite.model import Offer, Row, Scenario, fill, messages, swapped
from loadtest.workloads.cache_suite.registers import CHATTER, REPLIES


def multi_rows(split: str) -> list[Row]:
    rng = random.Random(f"cache-suite-multi-{split}")
    modules = SPLIT[split]
    # Every scenario context of the half, by domain: the "unrelated history" of another domain's question.
    histories = [(domain_name(m), messages(s.context, values)) for m in modules for s in m.SCENARIOS
                 for values in s.fills]
    rows = []
    for module in modules:
        domain = domain_name(module)
        others = [h for d, h in histories if d != domain]
        for scenario in module.SCENARIOS:
            rows += scenario_rows(scenario, domain, split, others, rng)
        for offer in module.OFFERS:
            rows += offer_rows(offer, domain, split, rng)
        for family in module.FAMILIES:
            rows.append(unrelated_history_row(family, domain, split, others, rng))
    return rows


def scenario_rows(scenario: Scenario, domain: str, split: str, others: list, rng: random.Random) -> list[Row]:
    rows = []
    for values in scenario.fills:
        question, context = fill(scenario.question, values), messages(scenario.context, values)

        def row(b_context: tuple[dict, ...], duplicate: bool, kind: str) -> Row:
            return Row(question, question, duplicate, kind, domain, scenario.id, split, context, b_context)

        before, after = rng.choice(CHATTER[split])
        rows += [row(messages(scenario.reworded, values), True, "context_reworded"),
                 row(messages(before, {}) + context + messages(after, {}), True, "chatter"),
                 row(messages(scenario.context, swapped(values, scenario.entity)), False, "other_entity"),
                 row(messages(scenario.context, swapped(values, scenario.detail)), False, "changed_detail"),
                 # A question that needs its context, asked after a conversation about something else.
                 row(rng.choice(others), False, "unrelated_context")]
    return rows


def offer_rows(offer: Offer, domain: str, split: str, rng: random.Random) -> list[Row]:
    rows = []
    for values in offer.fills:
        reply = rng.choice(REPLIES[split])
        context = (("user", offer.ask), ("assistant", offer.offer))
        reworded = (("user", offer.ask_reworded), ("assistant", offer.offer_reworded))

        def row(b_context: tuple[dict, ...], duplicate: bool, kind: str) -> Row:
            return Row(reply, reply, duplicate, kind, domain, offer.id, split, messages(context, values), b_context)

        rows += [row(messages(reworded, values), True, "context_reworded"),
                 row(messages(context, swapped(values, "offer")), False, "different_offer")]
    return rows


def unrelated_history_row(family, domain: str, split: str, others: list, rng: random.Random) -> Row:
    """A self-contained question after one conversation, and again (or reworded) after another."""
    values = family.fills[0]
    question = fill(family.base, values)
    asked_again = question if rng.random() < 0.5 else fill(rng.choice(family.hits)[1], values)
    first, second = rng.sample(others, 2)
    return Row(question, asked_again, True, "unrelated_history", domain, family.id, split,
               () if rng.random() < 0.25 else first, second)
