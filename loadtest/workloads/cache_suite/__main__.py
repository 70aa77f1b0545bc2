"""Regenerate loadtest/data/cache_suite/*.jsonl and print the counts per file, split and label."""

from collections import Counter

from loadtest.workloads.cache_suite import build, write


def main() -> None:
    suite = build()
    for path in write(suite):
        rows = suite[path.stem]
        counts = Counter((r.split, "should-hit" if r.duplicate else "must-miss") for r in rows)
        print(f"{path}: {len(rows)} pairs; " + ", ".join(f"{s} {label} {n}" for (s, label), n in sorted(counts.items())))


if __name__ == "__main__":
    main()
