"""What the embedding saw of a text: its window, the rest beyond it, and the share it could not read."""

import pytest

from gateway.cache.coverage import TAIL, UNREADABLE, EmbeddingWindow, coverage_rejection

LEASE = " ".join(f"Clause {i}: the tenant pays the rent by the first of the month." for i in range(1, 41))


@pytest.fixture(scope="module")
def window() -> EmbeddingWindow:
    return EmbeddingWindow.bundled()


def test_a_short_text_fits_whole(window):
    seen = window.coverage("How do I reverse a list in Python?")
    assert not seen.truncated and seen.readable
    assert seen.window_chars == len("How do I reverse a list in Python?")


def test_a_long_text_is_cut_where_the_model_cuts(window):
    seen = window.coverage(f"{LEASE} Question: may the landlord raise the rent?")
    encoding, _ = window.encode(f"{LEASE} Question: may the landlord raise the rent?")
    assert len(encoding.ids) == window.max_tokens  # [CLS] + 254 word-pieces + [SEP]
    assert seen.truncated and seen.tail.endswith("question: may the landlord raise the rent")


def test_different_endings_beyond_the_window_are_rejected(window):
    rent = window.coverage(f"{LEASE} Question: may the landlord raise the rent?")
    deposit = window.coverage(f"{LEASE} Question: may the landlord raise the deposit?")
    assert coverage_rejection(rent, deposit) == TAIL
    assert coverage_rejection(rent, rent) is None
    short = window.coverage("Clause 1: the tenant pays the rent by the first of the month.")
    assert coverage_rejection(rent, short) == TAIL  # the rest of one is nowhere in the other


def test_a_reworded_opening_with_the_same_rest_passes(window):
    original = window.coverage(f"Please read the following lease and answer my question. {LEASE} "
                               "Question: may the landlord raise the rent?")
    reworded = window.coverage(f"Read this lease. {LEASE} Question: may the landlord raise the rent?")
    assert original.tail != reworded.tail  # the windows end a few words apart
    assert coverage_rejection(original, reworded) is None


@pytest.mark.parametrize("text", ["የኢትዮጵያ ዋና ከተማ ማን ናት?", "ᠮᠣᠩᠭᠣᠯ ᠤᠯᠤᠰ", "ສະບາຍດີ ເຈົ້າເປັນແນວໃດ"])
def test_text_in_a_script_the_model_lacks_is_unreadable(window, text):
    seen = window.coverage(text)
    assert not seen.readable
    assert coverage_rejection(seen, window.coverage("What is the capital of Ethiopia?")) == UNREADABLE


@pytest.mark.parametrize("text", ["Привет, как дела?", "नमस्ते आप कैसे हैं", "Hello 😀 world, how are you?"])
def test_scripts_the_model_reads_and_a_stray_emoji_stay_readable(window, text):
    assert window.coverage(text).readable


def test_the_work_is_bounded_by_the_window_not_the_text(window):
    # A 256,000-character message: only a prefix a little longer than the window is tokenised.
    _, piece = window.encode("word " * 51_200)
    assert len(piece) < 10_000


def test_the_guards_read_a_long_text_up_to_its_window_and_as_much_again():
    from gateway.cache.reading import MIN_GUARDED_CHARS, read

    window = EmbeddingWindow.bundled()
    head = "How much does the 2 pm ferry to Oslo cost? " * 40
    reading = read(head + "filler words " * 20_000, window)
    assert reading.coverage.truncated
    assert len(reading.view.facts.lowered) <= 2 * max(reading.coverage.window_chars, MIN_GUARDED_CHARS)
    # A difference in the head, inside what the guards read, still trips them.
    other = read(head.replace("2 pm", "3 pm", 1) + "filler words " * 20_000, window)
    assert reading.view.facts.times != other.view.facts.times
