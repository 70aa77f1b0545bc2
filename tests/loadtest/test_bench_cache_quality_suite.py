"""`semgate bench cache-quality` on slices of semgate's own suite: per-kind tables, conversations, --all."""

import json

import pytest

from loadtest.__main__ import main
from loadtest.workloads.cache_suite import SUITE_DIR

NO_CLINC = ["--clinc-data", "/nonexistent", "--no-gptcache", "--no-progress", "--json"]


def _slice(name: str, family: str) -> list[dict]:
    rows = [json.loads(line) for line in (SUITE_DIR / f"{name}.jsonl").read_text().splitlines()]
    return [r for r in rows if r["family"] == family]


def _write(folder, name: str, rows: list[dict]) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def suite_dir(tmp_path):
    folder = tmp_path / "suite"
    _write(folder, "single", _slice("single", "travel.first-flight") + _slice("single", "cars.street-parking"))
    # One conversation asked again verbatim: stored and looked up as the same chat request, so it must hit.
    context = [{"role": "user", "content": "I have a Pixel 6 on Android 14."}, {"role": "assistant", "content": "Ok."}]
    again = {"a": "How do I turn on wifi calling?", "b": "How do I turn on wifi calling?", "duplicate": True,
             "kind": "same_conversation", "domain": "telecom", "family": "t", "split": "heldout",
             "context_a": context, "context_b": context}
    _write(folder, "multi", _slice("multi", "health.appointment") + [again])
    return folder


def test_single_turn_slice_reports_every_kind_beside_the_raw_baseline(suite_dir, tmp_path, capsys):
    assert main(["bench", "cache-quality", "--suite", "single", "--split", "tune", "--suite-dir", str(suite_dir),
                 "--out", str(tmp_path / "out"), *NO_CLINC]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = _slice("single", "travel.first-flight")
    kinds = result["semgate"]["by_kind"]
    assert result["pairs"] == len(rows) and set(kinds) == {r["kind"] for r in rows}
    for kind, m in kinds.items():
        assert m["should_hit"] == all(r["duplicate"] for r in rows if r["kind"] == kind)
        assert m["queries"] == sum(r["kind"] == kind for r in rows)
    # Every paraphrase is answerable (its question is stored); no trap is.
    assert result["semgate"]["overall"]["answerable"] == sum(r["duplicate"] for r in rows)
    assert set(result["baselines"]["raw_minilm"].get("by_kind", kinds)) == set(kinds)


def test_domains_keeps_only_those_domains_of_the_split(suite_dir, tmp_path, capsys):
    """The tune half's other domains, for a verifier trained on some of them: travel alone of the tune slice."""
    _write(suite_dir, "single", _slice("single", "travel.first-flight") + _slice("single", "banking.transfer-fee"))
    assert main(["bench", "cache-quality", "--suite", "single", "--split", "tune", "--domains", "travel",
                 "--suite-dir", str(suite_dir), "--out", str(tmp_path / "out"), *NO_CLINC]) == 0
    assert json.loads(capsys.readouterr().out)["pairs"] == len(_slice("single", "travel.first-flight"))


def test_multi_turn_lookups_carry_their_context_and_are_judged_as_conversations(suite_dir, tmp_path, capsys):
    assert main(["bench", "cache-quality", "--suite", "multi", "--split", "heldout", "--suite-dir", str(suite_dir),
                 "--out", str(tmp_path / "out"), *NO_CLINC]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = _slice("multi", "health.appointment")
    kinds = result["semgate"]["by_kind"]
    # The same conversation asked again hits and is right; "Can I move it...?" after another doctor's or another
    # day's appointment is a question no stored conversation answers.
    assert (kinds["same_conversation"]["hits"], kinds["same_conversation"]["correct_hits"]) == (1, 1)
    assert result["semgate"]["overall"]["answerable"] == sum(r["duplicate"] for r in rows) + 1
    for kind in ("other_entity", "changed_detail", "unrelated_context"):
        assert kinds[kind]["should_hit"] is False and kinds[kind]["answerable"] == 0
    # A reworded context is answerable by the stored conversation (its label links the two).
    assert kinds["context_reworded"]["answerable"] == kinds["context_reworded"]["queries"] == 2


def test_all_runs_the_three_headline_sets(suite_dir, tmp_path, capsys):
    qqp = tmp_path / "qqp.jsonl"
    qqp.write_text(json.dumps({"a": "What is the capital of France?", "b": "what is the capital of france",
                               "duplicate": True, "split": "test"}) + "\n")
    heldout_single = tmp_path / "suite" / "single.jsonl"
    rows = [json.loads(line) for line in heldout_single.read_text().splitlines()]
    assert {r["split"] for r in rows} == {"tune", "heldout"}
    assert main(["bench", "cache-quality", "--all", "--suite-dir", str(suite_dir), "--qqp-file", str(qqp),
                 "--out", str(tmp_path / "out"), *NO_CLINC]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["headline"]) == ["suite-single-heldout", "suite-multi-heldout", "qqp-test"]
    assert result["headline"]["suite-single-heldout"]["pairs"] == sum(r["split"] == "heldout" for r in rows)
    assert result["headline"]["qqp-test"]["pairs"] == 1 and result["headline"]["qqp-test"]["recall"] == 1.0
    for name in result["headline"]:
        assert (tmp_path / "out" / name / "summary.json").exists()


def test_dump_writes_one_line_per_lookup_agreeing_with_the_summary(suite_dir, tmp_path, capsys):
    dump = tmp_path / "lookups.jsonl"
    assert main(["bench", "cache-quality", "--suite", "single", "--split", "tune", "--suite-dir", str(suite_dir),
                 "--out", str(tmp_path / "out"), "--dump", str(dump), *NO_CLINC]) == 0
    overall = json.loads(capsys.readouterr().out)["semgate"]["overall"]
    lookups = [json.loads(line) for line in dump.read_text().splitlines()]
    assert [row["query"] for row in lookups] == [r["b"] for r in _slice("single", "travel.first-flight")]
    assert sum(row["hit"] for row in lookups) == overall["hits"]
    assert sum(row["correct"] for row in lookups) == overall["correct_hits"]
    assert all(row["cached"] for row in lookups if row["hit"])
