"""Re-ask detection: close embeddings and the same facts, within the window, once per answer."""

import numpy as np

from gateway.incontext import feedback
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


def test_a_busy_tenants_answers_never_push_out_a_quiet_tenants(monkeypatch):
    """Feedback finds an answer only while the book remembers it: one tenant's traffic must not decide
    whether another tenant's verdict still counts."""
    monkeypatch.setattr(feedback, "RECENT_ANSWERS", 10)
    book = FeedbackBook(reask_window_s=30, reask_similarity=0.9)
    quiet = Answer("quiet", "code", "e1")
    book.remember(["chatcmpl-quiet"], quiet, None, None)
    for i in range(100):
        book.remember([f"chatcmpl-{i}"], Answer("busy", "code", f"b{i}"), None, None)
    assert book.find("quiet", "chatcmpl-quiet") is quiet
    assert book.find("busy", "chatcmpl-99") is not None and book.find("busy", "chatcmpl-0") is None


def test_repeats_are_the_same_text_within_the_window():
    book = FeedbackBook(reask_window_s=30, reask_similarity=0.9)
    book.remember([], Answer("t1", "code", "e1"), VECTOR, "What is a closure?", now=0.0)
    assert book.repeats("t1", "What is a closure?", now=10.0)
    assert not book.repeats("t1", "What is a closure ?", now=10.0)  # another text: a rephrasing
    assert not book.repeats("t2", "What is a closure?", now=10.0) and not book.repeats("t1", "What is a closure?", 40.0)
