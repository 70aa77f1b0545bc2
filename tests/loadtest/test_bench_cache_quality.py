"""`semgate bench cache-quality` on a handful of pairs: judged like the issue says, JSON keys, plot."""

import json

from gateway.cache.verifier import Verifier
from loadtest.__main__ import main

PAIRS = [
    {"a": "How can I improve my English speaking skills?", "b": "How do I improve my spoken English?", "duplicate": True},
    {"a": "How do I lose 10 kg in a month?", "b": "How do I lose 20 kg in a month?", "duplicate": False},
    {"a": "What is the capital of France?", "b": "what is the capital of france", "duplicate": True},
    {"a": "How do I get rid of acne?", "b": "How do I get rid of acne scars?", "duplicate": False},
    {"a": "Which is the best laptop for programming?", "b": "What laptop should a programmer buy?", "duplicate": True},
    {"a": "And in Python?", "b": "And in Python?", "duplicate": False,
     "context_a": [{"role": "user", "content": "How do I sort a list in Java?"}, {"role": "assistant", "content": "sort"}],
     "context_b": [{"role": "user", "content": "How do I read a file in Java?"}, {"role": "assistant", "content": "read"}]},
]


def _tiny_clinc(folder):
    """A CLINC150-shaped file: two intents, their train utterances stored, a test utterance each looked up."""
    folder.mkdir()
    clinc = {"train": [["play some jazz", "play_music"], ["put on my playlist", "play_music"],
                       ["will it rain tomorrow", "weather"], ["what's the forecast", "weather"]],
             "test": [["play something relaxing", "play_music"], ["is it going to rain", "weather"]]}
    (folder / "clinc150.json").write_text(json.dumps(clinc))
    return folder


def test_quality_bench_judges_hits_and_reports_semgate_next_to_the_baselines(tmp_path, capsys):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps(p) for p in PAIRS))
    code = main(["bench", "cache-quality", "--pairs", str(pairs), "--json", "--out", str(tmp_path), "--no-progress",
                 "--clinc-data", str(_tiny_clinc(tmp_path / "clinc"))])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    overall = result["semgate"]["overall"]
    assert overall["queries"] == 6 and result["semgate"]["by_category"]
    assert overall["false_hits"] == 0  # no hit on "20 kg", "acne scars" or the other conversation
    assert overall["correct_hits"] >= 1  # at least the exact repeat
    # Issue #4's comparison replays the lookups' candidates: at the shipped thresholds it must agree with the real path.
    versus = result["semgate"]["per_category_vs_global"]
    assert (versus["per_category"]["hits"], versus["per_category"]["correct_hits"]) == (overall["hits"], overall["correct_hits"])
    assert versus["best_global"]["false_hit_rate"] <= overall["false_hit_rate"]
    # With CLINC150 beside it, the best single pair that passes the same CLINC check (here too few lookups
    # to rule any pair out, so the same pair).
    assert versus["best_clinc_safe_global"]["recall"] == versus["best_global"]["recall"]
    # The raw baseline's top-1 cosine at a loose threshold takes the look-alikes.
    loose = result["baselines"]["raw_minilm"]["sweep"][0]
    assert loose["threshold"] == 0.8 and loose["false_hits"] >= 2
    assert "overall" in result["baselines"]["gptcache"] or "skipped" in result["baselines"]["gptcache"]
    assert (tmp_path / "precision_recall.png").stat().st_size > 0
    assert json.loads((tmp_path / "summary.json").read_text())["pairs"] == 6


def test_quality_bench_reads_a_qqp_style_file_by_split(tmp_path, capsys):
    rows = [{**p, "split": "test" if i % 2 else "dev"} for i, p in enumerate(PAIRS)]
    qqp = tmp_path / "qqp.jsonl"
    qqp.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["bench", "cache-quality", "--qqp", str(qqp), "--split", "test", "--limit", "2", "--json",
                 "--no-gptcache", "--out", str(tmp_path), "--no-progress", "--clinc-data", str(tmp_path / "none")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["pairs"] == 2 and "gptcache" not in result["baselines"]
    assert result["semgate"]["per_category_vs_global"]["best_clinc_safe_global"] is None  # no CLINC150 data there


def test_quality_bench_measures_a_candidate_verifier_given_by_its_weights_file(tmp_path, capsys):
    """A retrained verifier is measured before it replaces the shipped weights: one that refuses every
    candidate leaves only the exact repeat as a hit."""
    shipped = Verifier.load()
    refuses_all = Verifier(shipped._mean, shipped._scale, shipped._layers, (0.0, -30.0), shipped.idf, shipped.info)
    weights = tmp_path / "candidate.npz"
    refuses_all.save(weights)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("\n".join(json.dumps(p) for p in PAIRS))
    assert main(["bench", "cache-quality", "--pairs", str(pairs), "--verifier-weights", str(weights), "--json",
                 "--no-gptcache", "--out", str(tmp_path), "--no-progress", "--clinc-data", str(tmp_path / "none")]) == 0
    overall = json.loads(capsys.readouterr().out)["semgate"]["overall"]
    assert (overall["hits"], overall["correct_hits"]) == (1, 1)  # "capital of France", answered by the exact tier
