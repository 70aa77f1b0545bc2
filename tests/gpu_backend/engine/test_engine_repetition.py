"""Finding the loop an answer ends in (counted in /metrics when an answer runs to its bound)."""

from gpu_backend.engine.repetition import MAX_PERIOD, WINDOW, loop_period


def test_a_repeated_run_of_tokens_at_the_end_is_a_loop():
    sentence = [11, 12, 13, 14, 15]
    assert loop_period([1, 2, 3] + sentence * 4) == 5
    assert loop_period([7] * 20) == 1
    # The loop may start mid-sentence: what counts is that it repeats up to the end.
    assert loop_period([1, 2] + (sentence * 5)[2:]) == 5


def test_an_answer_that_does_not_end_in_a_loop_is_not_one():
    assert loop_period(list(range(100))) is None
    assert loop_period([]) is None
    # Twice is not a loop, nor is a short repeat at the end of a long answer.
    assert loop_period([1, 2, 3] + [11, 12, 13, 14] * 2) is None
    assert loop_period(list(range(100, 300)) + [5, 5, 5, 5]) is None
    # A loop that was broken before the end does not count.
    assert loop_period([11, 12, 13] * 10 + list(range(100, 200))) is None


def test_a_loop_longer_than_the_largest_period_is_not_found():
    long_sentence = list(range(MAX_PERIOD + 1))
    assert loop_period(long_sentence * 4) is None
    assert loop_period(long_sentence[:MAX_PERIOD] * 4) == MAX_PERIOD


def test_only_the_end_of_a_long_answer_is_read():
    # A loop that fills the examined window is found however long the answer before it.
    assert loop_period(list(range(10_000)) + [3, 4] * (WINDOW // 2)) == 2
