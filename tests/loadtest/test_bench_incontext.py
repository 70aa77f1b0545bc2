"""`semgate bench incontext`: its task, and a short whole run with the echo upstream as the small model."""

import json

from loadtest.__main__ import main
from loadtest.benches._incontext_task import FAMILIES, build, correct


def test_the_task_is_seeded_disjoint_and_has_exact_answers():
    stored, feedback, tests = build(2, 1, 3, seed=1)
    assert (len(stored), len(feedback), len(tests)) == (2 * len(FAMILIES), len(FAMILIES), 3 * len(FAMILIES))
    assert build(2, 1, 3, seed=1) == (stored, feedback, tests)
    assert not {t.question for t in tests} & {s.question for s in stored}
    ticket = next(t for t in tests if t.family == "ticket")
    number = ticket.question.split("order ")[1].split()[0].strip("?.,")
    assert ticket.reference == f"TCK-{number}"


def test_only_the_exact_code_counts():
    assert correct(" TCK-12.\nmore text", "TCK-12") and correct('"R3-07"', "R3-07")
    assert not correct("The code is TCK-12", "TCK-12") and not correct("", "TCK-12")


def test_a_short_run_reports_every_condition(echo, tmp_path, capsys):
    code = main(["bench", "incontext", "--backend-url", echo.url, "--backend-model", "echo-1", "--json",
                 "--stored-per-family", "1", "--feedback-per-family", "1", "--tests-per-family", "1",
                 "--strong-first-token-ms", "1", "--strong-ms-per-token", "0", "--out", str(tmp_path)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    conditions = result["conditions"]
    assert set(conditions) == {"none", "random", "semgate", "routed", "routed_fb", "routed_rp", "strong"}
    assert result["replay"]["examples"] > 0
    assert conditions["none"]["accuracy"] == 0.0  # echo repeats the question: never a code
    assert conditions["strong"]["accuracy"] == 1.0 and conditions["strong"]["small_share"] == 0.0
    assert conditions["semgate"]["mean_examples"] > 0 and conditions["semgate"]["small_share"] == 1.0
    assert "no strong model reachable" in result["setup"]["strong_model"]
    assert (tmp_path / "incontext.png").exists()


def test_a_relative_out_works_from_the_directory_the_user_is_in(echo, tmp_path, monkeypatch, capsys):
    # The gateway runs inside the run folder: a config path relative to the user's directory would not be found.
    monkeypatch.chdir(tmp_path)
    code = main(["bench", "incontext", "--backend-url", echo.url, "--backend-model", "echo-1", "--json",
                 "--stored-per-family", "1", "--feedback-per-family", "1", "--tests-per-family", "1",
                 "--strong-first-token-ms", "1", "--strong-ms-per-token", "0", "--out", "relative/out"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["conditions"]["strong"]["accuracy"] == 1.0
    assert (tmp_path / "relative/out/incontext.png").exists()
    assert list((tmp_path / "relative/out").glob("run-*/gateway.yaml"))
