"""Whether an answer ends in a loop: the same run of tokens over and over.

Greedy small models fall into loops ("the concept of zero is ... the concept of zero is ...")
and then run to whatever bound they are given. The engine checks each answer cut at its bound
and counts the loops (/metrics), so an operator sees bounds spent on repetition.
"""

# Loops of up to this many tokens are found (a sentence or two of a small model's answer).
MAX_PERIOD = 64
# Only the answer's last tokens are examined: a check at the end of a request stays cheap.
WINDOW = 4 * MAX_PERIOD
# A loop repeats at least this many times...
MIN_REPEATS = 3


def loop_period(output_token_ids: list[int]) -> int | None:
    """The period of the loop the output ends in, or None. ...and covers at least half of the
    examined tail, so an answer that merely ends on a repeated word is not a loop."""
    tail = output_token_ids[-WINDOW:]
    for period in range(1, min(MAX_PERIOD, len(tail) // MIN_REPEATS) + 1):
        span = period + _trailing_matches(tail, period)
        if span >= MIN_REPEATS * period and 2 * span >= len(tail):
            return period
    return None


def _trailing_matches(tail: list[int], period: int) -> int:
    """How many tokens at the end of `tail` equal the token `period` places before them."""
    count = 0
    for i in range(len(tail) - 1, period - 1, -1):
        if tail[i] != tail[i - period]:
            break
        count += 1
    return count
