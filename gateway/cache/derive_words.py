"""Derive the English word list the typo correction ships (gateway/cache/english_words.txt) from WordNet 3.0.

    apt-get install -y wordnet-base        # the database files, in /usr/share/wordnet
    python -m gateway.cache.derive_words [--wordnet DIR] [--out PATH]

The canonical form (gateway/cache/canonical.py) corrects a word only when it is no known word; the
embedding model's whole-word vocabulary alone misses everyday words ("debit", "refundable") that a
WordNet lemma or irregular form ("paid", "children") covers. Kept: every single-word, lower-case,
letters-only lemma of the four index files and every form of the *.exc files. Only this script needs
WordNet; the gateway reads the derived file. Sorted, so re-running it on the same WordNet changes nothing.
"""

import argparse
import re
from pathlib import Path

DEFAULT_WORDNET = Path("/usr/share/wordnet")
DEFAULT_OUT = Path(__file__).with_name("english_words.txt")
POS = ("adj", "adv", "noun", "verb")
_PLAIN_WORD = re.compile(r"[a-z]{2,}")


def read_words(wordnet: Path) -> set[str]:
    found: set[str] = set()
    for pos in POS:
        for path, columns in ((wordnet / f"index.{pos}", 1), (wordnet / f"{pos}.exc", 2)):
            for line in path.read_text(encoding="latin-1").splitlines():
                if line.startswith(" "):  # the license header
                    continue
                found.update(w for w in line.split()[:columns] if _PLAIN_WORD.fullmatch(w))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    found = sorted(read_words(args.wordnet))
    header = (
        "# English words for the typo correction (gateway/cache/canonical.py), derived from WordNet 3.0\n"
        "# by `python -m gateway.cache.derive_words`: lemmas and irregular forms, one a line.\n"
    )
    args.out.write_text(header + "\n".join(found) + "\n")
    print(f"{len(found)} words -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
