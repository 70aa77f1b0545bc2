"""`slo_classes:` give a category's `slo_class` its numbers; every mistake names file, line, field and
what is allowed, and a category can only name a class the policy defines."""

import textwrap

import pytest
from policy_texts import SHIPPED_POLICY

from policies.errors import PolicyError, PolicyIssue
from policies.loader import load_policy_file, parse_policy_text
from policies.schema import SLOClass

CLASSES = """\
slo_classes:
  interactive: {ttft_ms: 1000, tpot_ms: 200}
  batch: {deadline_ms: 60000}
"""


def errors_of(*parts: str) -> list[PolicyIssue]:
    """The issues of the policy made of `parts`, each dedented on its own."""
    with pytest.raises(PolicyError) as caught:
        parse_policy_text("".join(textwrap.dedent(part) for part in parts), source="test.yaml")
    return caught.value.errors


def test_classes_load_and_categories_inherit_their_class_from_defaults():
    policies = parse_policy_text(CLASSES + textwrap.dedent("""\
        defaults: {slo_class: batch}
        categories:
          - name: chat
            keywords: [hello]
            slo_class: interactive
          - name: unhurried
            keywords: [report]
            slo_class: null
          - name: default
        """))
    assert policies.slo_classes == (SLOClass("interactive", ttft_ms=1000.0, tpot_ms=200.0),
                                    SLOClass("batch", deadline_ms=60000.0))
    assert [(c.name, c.slo_class) for c in policies.categories] == [
        ("chat", "interactive"), ("unhurried", None), ("default", "batch")]
    assert policies.slo_class("interactive").ttft_ms == 1000.0
    assert policies.slo_class(None) is None and policies.slo_class("gone") is None


def test_a_category_naming_an_undefined_class_is_an_error_listing_the_defined_ones():
    [issue] = errors_of(CLASSES, """\
        categories:
          - name: chat
            keywords: [hello]
            slo_class: realtime
          - name: default
        """)
    assert (issue.source, issue.line, issue.path) == ("test.yaml", 7, "categories.chat.slo_class")
    assert issue.message == "unknown slo_class 'realtime'" and issue.allowed == "batch, interactive"
    assert str(issue) == ("test.yaml:7:16: categories.chat.slo_class: unknown slo_class 'realtime' "
                          "(allowed: batch, interactive)")


def test_an_undefined_class_under_defaults_is_reported_once_where_it_is_set():
    [issue] = errors_of("""\
        defaults:
          slo_class: standard
        categories:
          - name: chat
            keywords: [hello]
          - name: default
        """)
    assert (issue.line, issue.path, issue.message) == (2, "defaults.slo_class", "unknown slo_class 'standard'")
    assert "none are" in issue.allowed


@pytest.mark.parametrize("value,message", [
    ("0", "0 is out of range"),
    ("-250", "-250 is out of range"),
    ("soon", "expected a number or null, got string 'soon'"),
    (".nan", "nan is not a finite number"),
    (".inf", "inf is not a finite number"),
    ("[100]", "expected a number or null, got a list"),
])
def test_an_objective_must_be_a_positive_finite_number_of_milliseconds(value, message):
    [issue] = errors_of(f"""\
        slo_classes:
          interactive:
            tpot_ms: {value}
        categories:
          - name: default
        """)
    assert (issue.line, issue.path, issue.message) == (3, "slo_classes.interactive.tpot_ms", message)
    assert issue.allowed in ("a number > 0", None)


def test_unknown_fields_names_and_shapes_are_reported_each_at_its_line():
    errors = errors_of("""\
        slo_classes:
          interactive: {ttft: 1000}
          Fast Lane: {ttft_ms: 500}
          named: {name: other}
          loose: 200
        categories:
          - name: default
        """)
    assert [(e.line, e.path) for e in errors] == [
        (2, "slo_classes.interactive.ttft"), (3, "slo_classes.Fast Lane"), (4, "slo_classes.named.name"),
        (5, "slo_classes.loose"),
    ]
    assert "did you mean 'ttft_ms'?" in errors[0].message and errors[0].allowed == "ttft_ms, tpot_ms, deadline_ms"
    assert "not a valid SLO class name" in errors[1].message
    assert "named by its key" in errors[2].message
    assert "expected a mapping" in errors[3].message


def test_slo_classes_must_be_a_mapping():
    [issue] = errors_of("""\
        slo_classes: [interactive]
        categories:
          - name: default
        """)
    assert (issue.line, issue.path) == (1, "slo_classes") and "expected a mapping" in issue.message


def test_the_shipped_policy_gives_every_category_a_defined_class():
    shipped = load_policy_file(SHIPPED_POLICY)
    assert shipped.slo_class("interactive") == SLOClass("interactive", ttft_ms=1000.0, tpot_ms=200.0)
    assert shipped.slo_class("standard") == SLOClass("standard", ttft_ms=3000.0, tpot_ms=500.0)
    assert shipped.slo_class("batch") == SLOClass("batch", deadline_ms=60000.0)
    assert shipped.get("time_sensitive").slo_class == "interactive" and shipped.default.slo_class == "standard"
    assert all(shipped.slo_class(c.slo_class) is not None for c in shipped.categories)
