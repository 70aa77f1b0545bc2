"""The shipped config/policies.yaml: it validates, keeps its promises, and classifies obvious queries
(with the real MiniLM model) into the category a user would expect."""

import pytest
from policy_texts import SHIPPED_POLICY

from policies.classifier import CategoryClassifier
from policies.loader import load_policy_file

# None of these is one of the policy's examples: they are held out.
OBVIOUS = {
    "personal": ["why hasn't my refund shown up yet", "I want to cancel my membership", "has my payment gone through"],
    "conversation": ["hey there!", "thanks so much", "are you human"],
    "finance": ["what's Amazon trading at", "current price of dogecoin", "how much is gold per gram"],
    "time_sensitive": ["will it be sunny in London tomorrow", "who won the Super Bowl last night", "how cold is it outside"],
    "code": ["how to remove duplicates from an array in JavaScript", "how do I rename a branch in git",
             "how can I split a string by commas"],
    "general_knowledge": ["who wrote the Odyssey", "how do bees make honey", "what is the longest river in the world"],
    # Keyboard mashes the embedding reads as about nothing. Real words strung together ("purple monkey
    # dishwasher") read as about something and sit at the calibrated floor (docs/policies.md).
    "default": ["qwerty zxcv", "flibber jabber wocky"],
}

# The questions issue 23 found misrouted: facts kept 60 s as finance or 7 days as code by accident.
EVERYDAY = ["What is the chemical symbol for gold?", "What is 1 plus 1?", "What is 2 plus 2?",
            "How does the stock market work?", "How do I reset my router?", "How often should I change my toothbrush?"]


@pytest.fixture(scope="module")
def shipped():
    return load_policy_file(SHIPPED_POLICY)


@pytest.fixture(scope="module")
def classifier(shipped, minilm_embed):
    return CategoryClassifier.build(shipped, minilm_embed)


def test_shipped_policy_has_the_categories_the_product_promises(shipped):
    assert set(shipped.names) == {"personal", "conversation", "finance", "time_sensitive", "code",
                                  "general_knowledge", "default"}
    personal = shipped.get("personal")
    assert personal.personal and not personal.is_shared and personal.namespace_tenant("acme") == "acme"
    assert shipped.get("finance").ttl_seconds <= 60
    assert shipped.get("time_sensitive").ttl_seconds <= 600
    assert shipped.get("code").ttl_seconds >= 86400 and shipped.get("code").eviction == "lfu"
    for category in shipped.categories:
        assert category.adaptive.min_similarity <= category.similarity_threshold
        assert category.adaptive.min_verifier <= category.verifier_threshold
        assert category.description


@pytest.mark.parametrize("expected,query", [(c, q) for c, qs in OBVIOUS.items() for q in qs])
def test_obvious_queries_land_in_their_category(classifier, minilm_embed, expected, query):
    result = classifier.classify(query, minilm_embed([query])[0])
    assert result.category == expected, result


@pytest.mark.parametrize("query", EVERYDAY)
def test_everyday_facts_are_general_knowledge_not_finance_code_or_personal(classifier, minilm_embed, query):
    result = classifier.classify(query, minilm_embed([query])[0])
    assert result.category in ("general_knowledge", "default"), result


def test_a_question_without_a_first_person_account_word_is_never_personal(classifier, minilm_embed):
    for query in ("How does a credit score work?", "Why does my laptop get hot?", "What is two factor authentication?"):
        assert classifier.classify(query, minilm_embed([query])[0]).category != "personal", query
    query = "why is my internet bill so high"
    assert classifier.classify(query, minilm_embed([query])[0]).category == "personal"


def test_a_code_question_that_mentions_the_users_account_stays_private(classifier, minilm_embed):
    query = "how do I reset my password in the Django admin"
    result = classifier.classify(query, minilm_embed([query])[0])
    assert result.category == "personal" and result.source == "rule"
