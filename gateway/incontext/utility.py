"""Example utility: a score per cache entry of how much it helps as an in-context example.

0 means no evidence (every new entry); feedback and replay move it up or down within
[LOW, HIGH]. Selection weighs similarity by `weight(utility)`, which is 1 at 0 and tends to
0 (useless) or 2 (proven) at the ends, so utility reorders near-equals but cannot make an
unrelated entry an example.
"""

import math

LOW, HIGH = -5.0, 5.0
FEEDBACK_STEP = 1.0  # utility change of an entry per unit of feedback score
REASK_SCORE = -0.5  # an immediate re-ask: a mild negative (the client may just have wanted a variant)


def weight(utility: float) -> float:
    return 2.0 / (1.0 + math.exp(-utility))


def clamp(utility: float) -> float:
    return max(LOW, min(HIGH, utility))
