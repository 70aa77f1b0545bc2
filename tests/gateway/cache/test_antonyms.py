"""The shipped antonym lexicon: derived from WordNet, read without it, inflections found by rule."""

from pathlib import Path

import pytest

from gateway.cache.derive_antonyms import DEFAULT_WORDNET, main
from gateway.cache.oppositions import ANTONYMS_PATH, antonym_lemmas, antonyms_clash, lexicon


@pytest.mark.skipif(not (DEFAULT_WORDNET / "data.adj").exists(), reason="WordNet is not installed (wordnet-base)")
def test_the_shipped_list_is_what_the_script_derives_from_wordnet(tmp_path: Path):
    main(["--out", str(tmp_path / "antonyms.txt")])
    assert (tmp_path / "antonyms.txt").read_text() == ANTONYMS_PATH.read_text()


def test_everyday_opposites_are_in_the_list_both_ways():
    antonyms = lexicon().antonyms
    for word, opposite in [("cheap", "expensive"), ("buy", "sell"), ("increase", "decrease"), ("legal", "illegal"),
                           ("minimum", "maximum"), ("import", "export"), ("on", "off")]:
        assert opposite in antonyms[word] and word in antonyms[opposite]
    assert "take" not in antonyms and "give" not in antonyms  # left out: "how long does it take"


@pytest.mark.parametrize(("form", "lemma"), [("increased", "increase"), ("increasing", "increase"),
                                             ("stopped", "stop"), ("bigger", "big"), ("worse", "bad"),
                                             ("slowly", "slow"), ("sold", "sell")])
def test_inflections_find_their_lemma(form, lemma):
    assert lemma in antonym_lemmas([form])


def test_a_clash_needs_the_word_on_one_side_and_its_antonym_on_the_other():
    assert antonyms_clash(antonym_lemmas(["cheap"]), antonym_lemmas(["expensive"]))
    assert not antonyms_clash(antonym_lemmas(["cheap"]), antonym_lemmas([]))  # merely missing
    assert not antonyms_clash(antonym_lemmas(["hot", "cold"]), antonym_lemmas(["cold"]))  # "hot or cold?"
    assert not antonyms_clash(antonym_lemmas(["increased"]), antonym_lemmas(["increasing"]))
