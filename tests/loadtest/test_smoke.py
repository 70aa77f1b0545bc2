"""SEMGATE_SMOKE=1: every bench and `semgate loadtest` shrink their workload, never their paths or other arguments."""

import argparse
from pathlib import Path

import pytest

from loadtest import cli as loadtest_cli
from loadtest import smoke
from loadtest.__main__ import build_parser
from loadtest.benches import bench_names, load_bench


def test_counts_are_capped_sweeps_keep_their_first_entry_and_unset_limits_get_one():
    args = argparse.Namespace(requests=192, warmup=1, rates="8,16,32", ratio="0.15,0.3", limit=None,
                              duration=0.5, rate=[10.0, 20.0], concurrency="1,8,32", workload="clinc",
                              out=Path("artifacts/x"))
    changes = smoke.shrink(args, {"requests": 2, "warmup": 4, "rates": smoke.FIRST, "ratio": smoke.FIRST,
                                  "limit": 100, "duration": 2, "rate": smoke.FIRST, "concurrency": 2})
    assert (args.requests, args.warmup, args.rates, args.ratio, args.limit) == (2, 1, "8", "0.15", 100)
    assert (args.duration, args.rate, args.concurrency) == (0.5, [10.0], "1")
    assert args.out == Path("artifacts/x") and args.workload == "clinc"
    assert "requests: 192 -> 2" in changes and not any(c.startswith("warmup") for c in changes)


def test_a_sweep_entry_above_its_size_is_capped():
    args = argparse.Namespace(concurrency="32", batch="8,32")
    smoke.shrink(args, {"concurrency": 2, "batch": 2})
    assert (args.concurrency, args.batch) == ("2", "2")


@pytest.mark.parametrize("name", [*bench_names(), "loadtest"])
def test_every_command_declares_smoke_sizes_of_its_own_options(name):
    module = loadtest_cli if name == "loadtest" else load_bench(name)
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    assert module.SMOKE, f"{name}: no smoke sizes"
    assert set(module.SMOKE) <= {action.dest for action in parser._actions}


def test_the_command_line_applies_them_only_when_asked(monkeypatch, capsys):
    argv = ["bench", "slo", "--rates", "8,16,32", "--requests", "192", "--out", "somewhere"]
    args = build_parser("slo").parse_args(argv)
    monkeypatch.delenv(smoke.ENV, raising=False)
    smoke.apply(args, args.smoke_sizes, "semgate bench slo")
    assert (args.rates, args.requests) == ("8,16,32", 192)
    monkeypatch.setenv(smoke.ENV, "1")
    smoke.apply(args, args.smoke_sizes, "semgate bench slo")
    assert (args.rates, args.requests, args.out) == ("8", 2, Path("somewhere"))
    assert "smoke run" in capsys.readouterr().err
