"""`semgate policies check FILE`."""

import argparse
import json

from policy_texts import MINIMAL, SHIPPED_POLICY

from policies import cli


def check(path, *flags) -> int:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return cli.run(parser.parse_args([str(path), *flags]))


def test_valid_file_prints_a_summary_and_exits_zero(write_policy, capsys):
    assert check(write_policy(MINIMAL)) == 0
    out = capsys.readouterr().out
    assert "valid, 2 categories" in out
    assert "code" in out and "default" in out


def test_invalid_file_prints_each_error_with_its_place_and_exits_non_zero(write_policy, capsys):
    path = write_policy(MINIMAL.replace("  - name: default\n", "  - name: default\n    scope: everyone\n    ttl: 5\n"))
    assert check(path) == 1
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert lines == [
        f"{path}:5:12: categories.default.scope: 'everyone' is not allowed (allowed: private, shared)",
        lines[1],
    ]
    assert lines[1].startswith(f"{path}:6:5: categories.default.ttl: unknown field 'ttl'; did you mean 'ttl_seconds'?")
    assert "2 errors" in captured.err


def test_json_output(write_policy, capsys):
    assert check(write_policy("categories: []\n"), "--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert result["valid"] is False and result["errors"][0]["line"] == 1


def test_main_runs_the_check_subcommand(capsys):
    assert cli.main(["check", str(SHIPPED_POLICY)]) == 0
    assert "personal" in capsys.readouterr().out
