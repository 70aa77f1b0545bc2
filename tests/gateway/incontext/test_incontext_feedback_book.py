"""Re-ask detection: close embeddings and the same facts, within the window, once per answer."""

import numpy as np

from gateway.incontext.feedback import Answer, FeedbackBook

VECTOR = np.array([1.0, 0.0], dtype=np.float32)


def test_a_reask_needs_the_same_facts_the_window_and_counts_once():
    book = FeedbackBook(reask_window_s=30, reask_similarity=0.9)
    answer = Answer("t1", "code", "e1")
    book.remember(["chatcmpl-1"], answer, VECTOR, "What is the ticket code for order 1050?", now=0.0)
    assert book.find("t1", "chatcmpl-1") is answer and book.find("t2", "chatcmpl-1") is None
    assert book.reasked("t2", VECTOR, "What is the ticket code for order 1050?", now=1.0) is None  # other tenant
    assert book.reasked("t1", VECTOR, "What is the ticket code for order 1642?", now=1.0) is None  # other number
    assert book.reasked("t1", np.array([0.0, 1.0], dtype=np.float32), "ticket code for order 1050?", now=1.0) is None
    assert book.reasked("t1", VECTOR, "ticket code for order 1050, please?", now=40.0) is None  # too late
    assert book.reasked("t1", VECTOR, "ticket code for order 1050, please?", now=5.0) is answer
    assert book.reasked("t1", VECTOR, "ticket code for order 1050, please?", now=6.0) is None  # once
