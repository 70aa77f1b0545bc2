"""`semgate bench guard-rates`: each guard's share of duplicates and of non-duplicates it vetoes."""

import json

from loadtest.__main__ import main

PAIRS = [
    {"a": "Are cheap flights worth it?", "b": "Are expensive flights worth it?", "duplicate": False},
    {"a": "Convert USD to EUR", "b": "Convert EUR to USD", "duplicate": False},
    {"a": "How do I lose 10 kg?", "b": "How can I lose 10 kilograms?", "duplicate": True},
    {"a": "Set an alarm for 7 pm", "b": "Set an alarm for 19:00", "duplicate": True},
]


def test_the_bench_counts_vetoes_per_guard_on_duplicates_and_non_duplicates(tmp_path, capsys):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps(p) for p in PAIRS))
    assert main(["bench", "guard-rates", "--pairs", str(pairs), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["duplicates"], result["non_duplicates"]) == (2, 2)
    guards = result["guards"]
    assert guards["antonyms"]["non_duplicates_rejected"] == 0.5  # cheap / expensive
    # The order guard: USD and EUR swapped, and cheap / expensive bound to the same words (flights, worth),
    # which its bindings check reads as the two ends of one relation trading places.
    assert guards["order"]["non_duplicates_rejected"] == 1.0
    assert guards["all"] == {"duplicates_rejected": 0.0, "non_duplicates_rejected": 1.0}
