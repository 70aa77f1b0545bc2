"""Readings of stored questions are kept by entry id, so a popular candidate is read once."""

import pytest

from gateway.cache import reading
from gateway.cache.coverage import EmbeddingWindow
from gateway.cache.reading import ON_LOOP_CHARS, ReadingMemo, read, read_soon


@pytest.fixture(scope="module")
def window():
    return EmbeddingWindow.bundled()


@pytest.fixture
def counted(monkeypatch):
    """The texts `read` is called on, in order."""
    texts: list[str] = []
    original = reading.read

    def counting(text, window):
        texts.append(text)
        return original(text, window)

    monkeypatch.setattr(reading, "read", counting)
    return texts


async def test_a_kept_entry_is_not_read_again(window, counted):
    memo = ReadingMemo(window)
    first = await memo.readings([("a", "How do I reset my password?"), ("b", "Where is my parcel?")])
    again = await memo.readings([("b", "Where is my parcel?"), ("c", "Can I pay by card?")])
    assert counted == ["How do I reset my password?", "Where is my parcel?", "Can I pay by card?"]
    assert again["b"] is first["b"]
    assert again["c"].view.facts == read("Can I pay by card?", window).view.facts


async def test_the_memo_keeps_only_the_most_recently_used(window, counted):
    memo = ReadingMemo(window, capacity=2)
    await memo.readings([("a", "first question?"), ("b", "second question?")])
    await memo.readings([("a", "first question?")])  # a is now the most recent
    await memo.readings([("c", "third question?")])  # evicts b
    await memo.readings([("a", "first question?"), ("b", "second question?")])
    assert counted == ["first question?", "second question?", "third question?", "second question?"]


async def test_short_and_long_texts_read_the_same_wherever_they_are_read(window):
    short, long = "Is the pharmacy open on Sunday at 9 pm?", "Is the pharmacy open on Sunday at 9 pm? " * 40
    assert len(short) <= ON_LOOP_CHARS < len(long)
    for text in (short, long):
        [got] = await read_soon([text], window)
        assert got.view.facts == read(text, window).view.facts
        assert got.coverage == read(text, window).coverage
