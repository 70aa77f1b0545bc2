"""`semgate policies check FILE`: validate a policy file, print its problems or what it defines.

Exit status 0 when valid, 1 when not, so it can gate a deploy or a CI step.
"""

import argparse
import json
import sys

from policies.errors import PolicyError
from policies.loader import load_policy_file
from policies.schema import CategoryPolicy, PolicySet

DESCRIPTION = "validate a policy file: print every problem (file:line:column) or a summary of its categories"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="the policy YAML, e.g. config/policies.yaml")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        policies = load_policy_file(args.file)
    except PolicyError as error:
        if args.json:
            print(json.dumps({"valid": False, "errors": [e.as_dict() for e in error.errors]}, indent=2))
        else:
            for issue in error.errors:
                print(issue)
            print(f"{args.file}: {len(error.errors)} error{'s' if len(error.errors) != 1 else ''}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"valid": True, "categories": [_row(c) for c in policies.categories]}, indent=2))
    else:
        _print_summary(args.file, policies)
    return 0


def _row(category: CategoryPolicy) -> dict[str, object]:
    return {
        "name": category.name,
        "cacheable": category.cacheable,
        "similarity_threshold": category.similarity_threshold,
        "verifier_threshold": category.verifier_threshold if category.verify else None,
        "ttl_seconds": category.ttl_seconds,
        "max_entries": category.max_entries,
        "eviction": category.eviction,
        "scope": _scope(category),
        "examples": len(category.examples),
        "rules": _rule_count(category),
        "slo_class": category.slo_class,
    }


def _table_row(category: CategoryPolicy) -> tuple[str, ...]:
    """The summary table's cells: the fields of _row, formatted for reading."""
    return (
        category.name,
        "yes" if category.cacheable else "no",
        f"{category.similarity_threshold:.2f}",
        f"{category.verifier_threshold:.2f}" if category.verify else "off",
        _duration(category.ttl_seconds),
        str(category.max_entries),
        category.eviction,
        _scope(category),
        category.slo_class or "-",
        str(len(category.examples)),
        str(_rule_count(category)),
    )


def _scope(category: CategoryPolicy) -> str:
    return "private (personal)" if category.personal else category.scope


def _rule_count(category: CategoryPolicy) -> int:
    return len(category.keywords) + len(category.patterns)


def _print_summary(path: str, policies: PolicySet) -> None:
    c = policies.classifier
    print(
        f"{path}: valid, {len(policies.categories)} categories "
        f"(classifier: top_k={c.top_k}, confidence_floor={c.confidence_floor:g})"
    )
    for slo in policies.slo_classes:
        objectives = [
            f"{field} {getattr(slo, field + '_ms'):g} ms"
            for field in ("ttft", "tpot", "deadline")
            if getattr(slo, field + "_ms") is not None
        ]
        print(f"  slo class {slo.name}: {', '.join(objectives) or 'no objectives'}")
    header = (
        "category",
        "cache",
        "sim",
        "verifier",
        "ttl",
        "max_entries",
        "evict",
        "scope",
        "slo",
        "examples",
        "rules",
    )
    rows = [header, *(_table_row(category) for category in policies.categories)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="semgate policies", description="policy tools")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help=DESCRIPTION, description=DESCRIPTION)
    add_arguments(check)
    args = parser.parse_args(argv)
    return run(args)
