"""`python -m loadtest`: the `semgate bench` and `semgate loadtest` commands."""

import argparse
import sys

from loadtest.benches import bench_names, load_bench


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="semgate", description="semgate benchmarks and load tests")
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser("bench", help="run a benchmark that prints its figures")
    benches = bench.add_subparsers(dest="bench", required=True, metavar="NAME")
    for name in bench_names():
        module = load_bench(name)
        sub = benches.add_parser(name.replace("_", "-"), help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    try:
        from loadtest import cli as loadtest_cli
    except ImportError:
        return parser
    load = commands.add_parser("loadtest", help=loadtest_cli.DESCRIPTION, description=loadtest_cli.DESCRIPTION)
    loadtest_cli.add_arguments(load)
    load.set_defaults(run=loadtest_cli.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
