"""IC-Cache: past answers of a strong model as in-context examples, model routing, feedback, replay.

On a miss, the most similar past (question, answer) pairs of the same tenant that a strong model
produced are prepended as earlier turns, so a small model can answer like the strong one; a
router picks the model by expected quality (given those examples), load and cost; feedback and
an offline replay refine how useful each example is.
"""
