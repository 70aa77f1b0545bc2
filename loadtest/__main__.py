"""`python -m loadtest`: the `semgate bench` and `semgate loadtest` commands."""

import argparse
import sys
from pathlib import Path

from loadtest import cli as loadtest_cli
from loadtest import smoke
from loadtest.benches import bench_names, load_bench


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """`only`: the bench being run; only its module is imported, so one broken bench
    cannot take the others down. Without it (help), every bench is listed."""
    parser = argparse.ArgumentParser(prog="semgate", description="semgate benchmarks and load tests")
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench", help="run a benchmark that prints its figures")
    benches = bench.add_subparsers(dest="bench", required=True, metavar="NAME")
    for name in [only] if only else bench_names():
        module = load_bench(name)
        sub = benches.add_parser(name.replace("_", "-"), help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run, smoke_sizes=module.SMOKE)
    load = commands.add_parser("loadtest", help=loadtest_cli.DESCRIPTION, description=loadtest_cli.DESCRIPTION)
    loadtest_cli.add_arguments(load)
    load.set_defaults(run=loadtest_cli.run, smoke_sizes=loadtest_cli.SMOKE)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = argv[1].replace("-", "_") if len(argv) > 1 and argv[0] == "bench" else None
    args = build_parser(chosen if chosen in bench_names() else None).parse_args(argv)
    smoke.apply(args, args.smoke_sizes, f"semgate bench {argv[1]}" if chosen else "semgate loadtest")
    return args.run(_absolute_paths(args))


def _absolute_paths(args: argparse.Namespace) -> argparse.Namespace:
    """Every path option resolved against the directory the user ran the command from: benches hand
    paths to servers they start in other working directories (a run folder, a temporary home)."""
    for name, value in vars(args).items():
        if isinstance(value, Path):
            setattr(args, name, value.absolute())
    return args


if __name__ == "__main__":
    sys.exit(main())
