"""Derive the related-word groups the substitution guard ships (gateway/cache/synonyms.txt) from WordNet 3.0.

    apt-get install -y wordnet-base        # the database files, in /usr/share/wordnet
    python -m gateway.cache.derive_synonyms [--wordnet DIR] [--out PATH]

Two questions that differ in one word ask the same thing when the two words name the same thing ("fastest" /
"quickest", "fee" / "charge", "built" / "made"), and different things when they are siblings ("chrome" /
"firefox", "dogs" / "cats", "salmon" / "chicken"). A line of the output is one WordNet sense in everyday use
(at least one of its words tagged in the SemCor counts, cntlist.rev, as derive_antonyms keeps them): its single,
lower-case words, the words of the senses it is a kind of (hypernyms: "fee" -> "fixed charge", read by its
head "charge") and, for adjectives,
of the senses it is similar to ("fast" -> "quick"); then the irregular forms of its words (`=form lemma...`,
"made" -> "make"), and the words SemCor tags more often as another part of speech than as a noun (`-word`).
Two words are related when one line holds both, so a word
and its parent pass and two children of one parent do not. Only this script needs WordNet; the output is
deterministic (sorted).
"""

from pathlib import Path

from gateway.cache.derive_antonyms import (
    _PLAIN_WORD,
    _POS_FILE,
    POS_FILES,
    _lemma,
    _parse,
    _sense_key,
    _synsets,
    derive_word_file,
    irregular_forms,
    tagged_senses,
)

DEFAULT_OUT = Path(__file__).with_name("synonyms.txt")
# Pointers whose target names the same thing or what it is a kind of: hypernym, instance hypernym, similar to.
_RELATED = frozenset({"@", "@i", "&"})


def derive(wordnet: Path) -> list[str]:
    tagged = tagged_senses(wordnet)
    synsets = {pos: _synsets(wordnet, pos) for pos in POS_FILES}
    groups: set[str] = set()
    for pos in POS_FILES:
        for line in synsets[pos].values():
            words, pointers = _parse(line)
            if not any(_sense_key(line, word) in tagged for word in words):
                continue
            related = {_lemma(word) for word, _ in words}
            for symbol, target, target_pos, _ in pointers:
                if symbol in _RELATED:
                    # A parent named by a compound counts by its head: "fixed_charge" -> "charge".
                    parents = _parse(synsets[_POS_FILE[target_pos]][target])[0]
                    related |= {_lemma(word).rsplit("_", 1)[-1] for word, _ in parents}
            plain = sorted(w for w in related if _PLAIN_WORD.fullmatch(w))
            if len(plain) > 1:
                groups.add(" ".join(plain))
    grouped = {w for group in groups for w in group.split()}
    irregular = irregular_forms(wordnet, grouped)  # "made" -> "make", "mice" -> "mouse"
    lines = sorted(groups) + [f"={form} {' '.join(sorted(bases))}" for form, bases in sorted(irregular.items())]
    return lines + [f"-{word}" for word in sorted(not_nouns(wordnet))]


def not_nouns(wordnet: Path) -> set[str]:
    """Words used more often as a verb, adjective or adverb than as a noun in SemCor ("include", "best"):
    trading one for another rewords a question more often than it names another thing."""
    counts: dict[str, list[int]] = {}
    for line in (wordnet / "cntlist.rev").read_text(encoding="latin-1").splitlines():
        key, _, count = line.split()
        lemma, _, sense = key.partition("%")
        if _PLAIN_WORD.fullmatch(lemma):
            noun_other = counts.setdefault(lemma, [0, 0])
            noun_other[sense[0] != "1"] += int(count)
    return {lemma for lemma, (noun, other) in counts.items() if other > noun}


def main(argv: list[str] | None = None) -> None:
    header = [
        "# Related words for the substitution guard (gateway/cache/substitutions.py), derived from WordNet 3.0 by",
        "# `python -m gateway.cache.derive_synonyms`. One everyday sense a line: its words and its parents' words.",
    ]
    lines, out = derive_word_file(argv, __doc__, DEFAULT_OUT, derive, header)
    forms = sum(line.startswith("=") for line in lines)
    others = sum(line.startswith("-") for line in lines)
    print(f"{len(lines) - forms - others} groups, {forms} irregular forms, {others} not nouns -> {out}")


if __name__ == "__main__":
    main()
