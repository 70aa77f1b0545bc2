"""`semgate replay` beside a running gateway: re-scores, prunes, and a dry run changes nothing."""

import argparse

import pytest
from gateway_setup import gateway_yaml
from ic_setup import MODELS, ask, stored

from gateway.config import parse_config
from gateway.incontext.replay import add_replay_arguments, replay, token_f1

QUESTIONS = ("How do I reverse a list in Python?", "How do I reverse a string in Python?",
             "How do I reverse a tuple in Python?")


def test_token_f1_compares_answers_word_by_word():
    assert token_f1("TCK-4821", "tck 4821") == 1.0
    assert token_f1("The code is TCK-4821.", "TCK-4821") == pytest.approx(2 * (2 / 5) * 1 / (2 / 5 + 1))
    assert token_f1("no idea", "TCK-4821") == 0.0


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_replay_arguments(parser)
    return parser.parse_args(list(argv))


async def test_replay_prunes_examples_that_do_not_help_and_retrieval_stops_offering_them(cached_gateway, echo,
                                                                                       tmp_path):
    url = cached_gateway(MODELS)
    db = tmp_path / "cache.db"
    for question in QUESTIONS:
        ask(url, question, pin="echo-strong")
    config = parse_config(gateway_yaml(echo.url, MODELS, store=str(db)), "test.yaml")

    # The echo model ignores examples: every gain is 0. A dry run with a high bar prunes on paper only.
    dry = await replay(config, _args("--prune-below", "0.5", "--dry-run", "--probes", "2"))
    assert len(dry) == 3 and all(s.gain == 0.0 and s.probes == 2 and s.pruned for s in dry)
    assert {stored(db, q)["utility"] for q in QUESTIONS} == {0.0}
    kept = await replay(config, _args("--probes", "2"))  # gain 0 is not below the default bar (0)
    assert not any(s.pruned for s in kept) and {stored(db, q)["utility"] for q in QUESTIONS} == {0.0}

    assert ask(url, "How do I reverse a dict in Python?", pin="echo-small").headers.get("x-semgate-examples")
    await replay(config, _args("--prune-below", "0.5", "--probes", "2"))
    assert {stored(db, q)["utility"] for q in QUESTIONS} == {config.incontext.min_utility - 1.0}
    assert "x-semgate-examples" not in ask(url, "How do I reverse a set in Python?", pin="echo-small").headers
