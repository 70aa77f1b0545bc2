"""Derive the antonym lexicon the guards ship (gateway/cache/antonyms.txt) from WordNet 3.0.

    apt-get install -y wordnet-base        # the database files, in /usr/share/wordnet
    python -m gateway.cache.derive_antonyms [--wordnet DIR] [--out PATH]

Only this script needs WordNet; the gateway, CI and users read the derived file. What it keeps:
- WordNet's lexical antonym pointers ("!") between single, lower-case words of every part of speech,
  where both senses of the pair are in everyday use (tagged at least MIN_TAG_COUNT times in the SemCor
  counts, cntlist.rev): rare words and senses ("safe"/"out" in baseball) never occur in a cache's
  traffic, and each pair is a veto;
- the two ends of one event (CONVERSES below): "lands"/"leaves", "send"/"receive", "upload"/"download".
  WordNet links few of them ("arrive"/"leave"), and the ones it links are often dropped by the tag count
  ("deposit"/"withdraw", "lend"/"borrow", "upload"/"download"), yet a question about one end is never
  answered by the answer about the other;
- the irregular inflections (the *.exc files) of the words kept, so "took"/"gave" or "worse"/"better"
  find their lemma without a lemmatiser at run time; regular ones are undone by rules
  (gateway/cache/oppositions.py).
The output is deterministic (sorted), so re-running it on the same WordNet changes nothing.
"""

import argparse
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

DEFAULT_WORDNET = Path("/usr/share/wordnet")
DEFAULT_OUT = Path(__file__).with_name("antonyms.txt")
POS_FILES = ("adj", "adv", "noun", "verb")
MIN_TAG_COUNT = 1
_PLAIN_WORD = re.compile(r"[a-z]{2,}")
# Senses too far from everyday questions to veto anything: each of these words has an antonym in
# WordNet whose use would reject paraphrases ("take" as the opposite of "give": "how long does it
# take" / "can you give me an estimate").
EXCLUDED = frozenset(
    {
        "take",
        "give",
        "get",
        "have",
        "be",
        "do",
        "make",
        "go",
        "come",
        "keep",
        "let",
        "put",
        "set",
        "see",
        "say",
        "tell",
        "ask",
        "find",
        "think",
        "know",
        "want",
        "like",
        "need",
        "use",
        "work",
        "way",
        "thing",
        "time",
        "one",
        "many",
        "much",
        "few",
        "well",
        "very",
        "just",
        "so",
        "too",
        "also",
        "still",
        "even",
        "here",
        "there",
        "this",
        "that",
        "some",
        "any",
        "all",
        "most",
        "other",
        "same",
        "different",
        "such",
        "only",
        "own",
        "sure",
        "can",
        "will",
        "may",
        "must",
        "question",
        "answer",
    }
)  # "my question on Quora" / "my answer on Quora" ask the same

# One event seen from its two ends (or one relation from its two parties): each word of one side is the antonym
# of each word of the other. Words of one side are synonyms of each other ("land"/"arrive"), so they never veto
# a paraphrase.
CONVERSES = (
    ({"leave", "depart", "departure", "takeoff"}, {"arrive", "arrival", "land", "landing"}),
    ({"send", "sender", "outgoing", "outbound"}, {"receive", "recipient", "incoming", "inbound"}),
    ({"buy", "purchase", "buyer"}, {"sell", "seller"}),  # not "sale": "sales tax when I buy"
    ({"import", "importer"}, {"export", "exporter"}),
    ({"upload"}, {"download"}),
    ({"upgrade"}, {"downgrade"}),
    ({"deposit"}, {"withdraw", "withdrawal"}),
    ({"lend", "lender"}, {"borrow", "borrower"}),
    ({"encrypt", "encryption"}, {"decrypt", "decryption"}),
    ({"start", "begin"}, {"end", "finish"}),
    ({"join"}, {"quit"}),
    # The two directions of one change: gaining weight is not losing it, raising a limit not lowering it.
    ({"gain"}, {"lose"}),
    ({"increase", "raise"}, {"reduce", "lower"}),
    ({"accept"}, {"decline"}),
    ({"easy"}, {"hard"}),  # WordNet links "easy" to "difficult" only
    # Two kinds of one service that answer differently: WordNet links "on-line" / "off-line" only hyphenated, and
    # "domestic" to "foreign" only.
    ({"online"}, {"offline"}),
    ({"domestic"}, {"international"}),
    ({"indoor", "indoors"}, {"outdoor", "outdoors"}),
    ({"weekday", "weekdays"}, {"weekend", "weekends"}),
    # The two parties of one relation, as WordNet links "employer"/"employee" and "parent"/"child": what the one
    # pays, owes or may do is not what the other does.
    ({"landlord"}, {"tenant", "renter"}),
    ({"teacher"}, {"student", "pupil"}),
    ({"doctor"}, {"patient"}),
    ({"driver"}, {"passenger"}),
    ({"host"}, {"guest"}),
)


def read_pairs(wordnet: Path, tagged: set[str]) -> set[tuple[str, str]]:
    """Every antonym pointer between two senses in `tagged` (sense keys), as (word, antonym)."""
    synsets = {pos: _synsets(wordnet, pos) for pos in POS_FILES}  # pos -> offset -> line
    pairs = set()
    for pos in POS_FILES:
        for line in synsets[pos].values():
            words, pointers = _parse(line)
            for symbol, target, target_pos, source_target in pointers:
                if symbol != "!":
                    continue
                target_line = synsets[_POS_FILE[target_pos]][target]
                target_words, _ = _parse(target_line)
                source = words[int(source_target[:2], 16) - 1]
                antonym = target_words[int(source_target[2:], 16) - 1]  # noqa: FURB166 a hex pair, not a 0x prefix
                if {_sense_key(line, source), _sense_key(target_line, antonym)} <= tagged:
                    pairs.add((source[0], antonym[0]))
    return pairs


def tagged_senses(wordnet: Path) -> set[str]:
    """Sense keys tagged in SemCor (cntlist.rev: `sense_key sense_number tag_count`)."""
    kept = set()
    for line in (wordnet / "cntlist.rev").read_text(encoding="latin-1").splitlines():
        key, _, count = line.split()
        if int(count) >= MIN_TAG_COUNT:
            kept.add(key)
    return kept


def _sense_key(line: str, word: tuple[str, str]) -> str:
    """WordNet's sense key `lemma%ss_type:lex_filenum:lex_id::` (head synsets only: satellites never match)."""
    fields = line.split()
    ss_type = {"n": 1, "v": 2, "a": 3, "r": 4, "s": 5}[fields[2]]
    return f"{_lemma(word[0])}%{ss_type}:{fields[1]}:{int(word[1], 16):02d}::"


def irregular_forms(wordnet: Path, lemmas: set[str]) -> dict[str, set[str]]:
    forms: dict[str, set[str]] = defaultdict(set)
    for pos in POS_FILES:
        for line in (wordnet / f"{pos}.exc").read_text(encoding="latin-1").splitlines():
            inflected, *bases = line.split()
            for base in bases:
                if base in lemmas and inflected != base and _PLAIN_WORD.fullmatch(inflected):
                    forms[inflected].add(base)
    return forms


def derive(wordnet: Path) -> list[str]:
    antonyms: dict[str, set[str]] = defaultdict(set)
    for word, antonym in read_pairs(wordnet, tagged_senses(wordnet)):
        word, antonym = _lemma(word), _lemma(antonym)
        if word == antonym or {word, antonym} & EXCLUDED:
            continue
        if _PLAIN_WORD.fullmatch(word) and _PLAIN_WORD.fullmatch(antonym):
            antonyms[word].add(antonym)
            antonyms[antonym].add(word)  # WordNet lists most pairs both ways, not all
    for one, other in CONVERSES:
        for word in one:
            antonyms[word] |= other
        for word in other:
            antonyms[word] |= one
    lines = [f"{word} {' '.join(sorted(others))}" for word, others in sorted(antonyms.items())]
    irregular = irregular_forms(wordnet, set(antonyms))
    lines += [f"={form} {' '.join(sorted(bases))}" for form, bases in sorted(irregular.items())]
    return lines


def _lemma(word: str) -> str:
    return re.sub(r"\(.*\)$", "", word).lower()  # adjective markers: "long(a)", "galore(ip)"


def _parse(line: str) -> tuple[list[tuple[str, str]], list[tuple[str, str, str, str]]]:
    """((word, lex_id) for each word of the synset, (symbol, offset, pos, source/target) for each pointer)."""
    fields = line.split(" | ", 1)[0].split()
    count = int(fields[3], 16)
    words = [(fields[4 + 2 * i], fields[5 + 2 * i]) for i in range(count)]
    at = 4 + 2 * count
    pointer_count = int(fields[at])
    pointers = [
        (fields[at + 1 + 4 * i], fields[at + 2 + 4 * i], fields[at + 3 + 4 * i], fields[at + 4 + 4 * i])
        for i in range(pointer_count)
    ]
    return words, pointers


_POS_FILE = {"a": "adj", "s": "adj", "r": "adv", "n": "noun", "v": "verb"}


def _synsets(wordnet: Path, pos: str) -> dict[str, str]:
    text = (wordnet / f"data.{pos}").read_text(encoding="latin-1")
    return {line.split(" ", 1)[0]: line for line in text.splitlines() if line and not line.startswith(" ")}


def main(argv: list[str] | None = None) -> None:
    header = [
        "# Antonyms for the guards (gateway/cache/oppositions.py), derived from WordNet 3.0 by",
        "# `python -m gateway.cache.derive_antonyms`. `word antonym...`; `=form lemma...` maps irregular forms.",
    ]
    lines, out = derive_word_file(argv, __doc__, DEFAULT_OUT, derive, header)
    print(
        f"{sum(not line.startswith('=') for line in lines)} words, "
        f"{sum(line.startswith('=') for line in lines)} irregular forms -> {out}"
    )


def derive_word_file(
    argv: list[str] | None,
    doc: str | None,
    default_out: Path,
    derive_lines: Callable[[Path], list[str]],
    header: list[str],
) -> tuple[list[str], Path]:
    """The command line of a word file derived from WordNet (antonyms, synonyms): the lines `derive_lines`
    reads from --wordnet, under `header`, written to --out; returns the lines and where they went."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n", 1)[0])
    parser.add_argument("--wordnet", type=Path, default=DEFAULT_WORDNET, help="folder with WordNet's data.* files")
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    lines = derive_lines(args.wordnet)
    args.out.write_text("\n".join(header + lines) + "\n")
    return lines, args.out


if __name__ == "__main__":
    main()
