"""Derive the synonym list the canonical form ships (gateway/cache/canonical_synonyms.txt) from WordNet 3.0.

    apt-get install -y wordnet-base        # the database files, in /usr/share/wordnet
    python -m gateway.cache.derive_canonical_synonyms [--wordnet DIR] [--out PATH]

Two words become one only where a reader could not tell them apart: both are single, lower-case words
whose dominant sense is the same synset. A word's dominant sense is its first WordNet sense in a part of
speech that holds at least DOMINANT_SHARE of all its tagged uses in SemCor (every sense, every part of
speech together) and is in everyday use (tagged at least MIN_TAG_COUNT times). "purchase" and "buy",
"attorney" and "lawyer" meet that; "close" and "near" do not ("close" is mostly a verb: "close the store"
is no "near the store"). Each group maps to its most used member. Function words, question words, number
and scope words and the words of the antonym list keep their own form: a synonym list must never make two
questions the same that a guard would tell apart. The output is sorted, so re-running it changes nothing.
"""

import argparse
import re
from collections import defaultdict
from pathlib import Path

from gateway.cache.text import QUESTION_WORDS, STOPWORDS

DEFAULT_WORDNET = Path("/usr/share/wordnet")
DEFAULT_OUT = Path(__file__).with_name("canonical_synonyms.txt")
ANTONYMS = Path(__file__).with_name("antonyms.txt")
POS_FILES = {"noun": "1", "verb": "2", "adj": "3", "adv": "4"}
MIN_TAG_COUNT = 5
DOMINANT_SHARE = 0.6  # of all the word's tagged uses, every sense and part of speech together
_PLAIN_WORD = re.compile(r"[a-z]{3,}")
# Number words are facts (the guards compare them); "one" is a pronoun as often as a count.
NUMBER_WORDS = frozenset(
    [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "hundred",
        "thousand",
        "million",
        "billion",
        "first",
        "second",
        "third",
        "single",
        "double",
        "half",
        "dozen",
        "zero",
        "nothing",
    ]
)
# Words the scope and order checks read, and which WordNet files as adverbs ("after" = "later"): a question
# "after 30 days" is not one "later than 30 days" would answer the same way in every sentence.
SCOPE_WORDS = frozenset(
    [
        "after",
        "before",
        "later",
        "earlier",
        "early",
        "late",
        "within",
        "during",
        "until",
        "since",
        "ago",
        "next",
        "last",
        "previous",
        "past",
        "once",
        "always",
        "never",
        "ever",
        "often",
        "all",
        "some",
        "any",
        "every",
        "each",
        "both",
        "either",
        "neither",
        "only",
        "just",
        "even",
        "still",
        "already",
    ]
)


def tag_counts(wordnet: Path) -> dict[str, int]:
    """`lemma%type:lexfile:lexid` -> SemCor tag count (cntlist.rev's sense keys without the head word)."""
    counts: dict[str, int] = {}
    for line in (wordnet / "cntlist.rev").read_text(encoding="latin-1").splitlines():
        key, _, count = line.split()
        lemma_sense = ":".join(key.split(":")[:3])
        counts[lemma_sense] = counts.get(lemma_sense, 0) + int(count)
    return counts


def first_senses(wordnet: Path, pos: str, counts: dict[str, int]) -> dict[str, tuple[str, int]]:
    """word -> (its first synset in `pos`, that sense's tag count), for plain single words."""
    data = (wordnet / f"data.{pos}").read_text(encoding="latin-1")
    offsets: dict[int, int] = {}
    position = 0
    for line in data.splitlines(keepends=True):
        if not line.startswith(" "):
            offsets[int(line[:8])] = position
        position += len(line)
    senses: dict[str, tuple[str, int]] = {}
    for line in (wordnet / f"index.{pos}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        fields = line.split()
        word = fields[0]
        if not _PLAIN_WORD.fullmatch(word):
            continue
        first = int(fields[-int(fields[2])])
        start = offsets[first]
        synset = data[start : data.index("\n", start)].split()
        lexfile, ss_type = synset[1], synset[2]
        members = synset[4 : 4 + 2 * int(synset[3], 16) : 2]
        ids = synset[5 : 5 + 2 * int(synset[3], 16) : 2]
        lex_id = next(
            (int(i, 16) for m, i in zip(members, ids, strict=True) if re.sub(r"\(.*\)$", "", m).lower() == word), 0
        )
        type_number = "5" if ss_type == "s" else POS_FILES[pos]
        count = counts.get(f"{word}%{type_number}:{lexfile}:{lex_id:02d}", 0)
        senses[word] = (f"{pos}:{first}", count)
    return senses


def derive(wordnet: Path) -> list[tuple[str, str]]:
    """(word, its representative) for every word that maps to another."""
    counts = tag_counts(wordnet)
    by_pos = {pos: first_senses(wordnet, pos, counts) for pos in POS_FILES}
    excluded = STOPWORDS | set(QUESTION_WORDS) | NUMBER_WORDS | SCOPE_WORDS | _antonym_words()
    totals: dict[str, int] = defaultdict(int)
    for key, count in counts.items():
        totals[key.split("%", 1)[0]] += count
    dominant: dict[str, tuple[str, int]] = {}
    for senses in by_pos.values():
        for word, (synset, count) in senses.items():
            # The sense a reader takes the word in: most of its uses, not merely its first in one part of speech.
            if count >= MIN_TAG_COUNT and count >= DOMINANT_SHARE * totals[word] and word not in excluded:
                dominant[word] = (synset, count)
    groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for word, (synset, count) in dominant.items():
        groups[synset].append((count, word))
    mapping = []
    for members in groups.values():
        if len(members) > 1:
            representative = max(members, key=lambda m: (m[0], -len(m[1]), m[1]))[1]
            mapping += [(word, representative) for _, word in members if word != representative]
    return sorted(mapping)


def _antonym_words() -> set[str]:
    lines = ANTONYMS.read_text(encoding="utf-8").splitlines()
    return {w for line in lines if not line.startswith("#") for w in re.findall(r"[a-z]+", line)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    mapping = derive(args.wordnet)
    header = (
        "# Synonyms for the canonical form (gateway/cache/canonical.py), derived from WordNet 3.0 by\n"
        "# `python -m gateway.cache.derive_canonical_synonyms`: `word representative`, one pair a line. Do not edit.\n"
    )
    args.out.write_text(header + "".join(f"{word} {rep}\n" for word, rep in mapping), encoding="utf-8")
    print(f"{len(mapping)} words -> {args.out}")


if __name__ == "__main__":
    main()
