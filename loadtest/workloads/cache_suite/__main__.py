"""Regenerate loadtest/data/cache_suite/*.jsonl and print the counts per file, split and label."""

from collections import Counter

from loadtest.workloads.cache_suite import build, write


def main() -> None:
    suite = build()
    for path in write(suite):
        rows = suite[path.stem]
        counts = Counter((r.split, "should-hit" if r.duplicate else "must-miss") for r in rows)
        by_label = ", ".join(f"{split} {label} {n}" for (split, label), n in sorted(counts.items()))
        print(f"{path}: {len(rows)} pairs; {by_label}")


if __name__ == "__main__":
    main()
