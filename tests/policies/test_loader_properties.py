"""Whatever text reaches the policy loader (a file, the admin API), it either loads or says
where the problem is: a PolicyError whose every issue names a line of that text. Never a
crash of another kind, which the admin API would turn into a 500."""

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_texts import MINIMAL, SHIPPED_POLICY

from policies.errors import PolicyError
from policies.loader import MAX_DEPTH, parse_policy_text
from policies.schema import PolicySet

FIELD_NAMES = ["name", "examples", "keywords", "patterns", "similarity_threshold", "ttl_seconds", "scope", "personal",
               "guards", "adaptive", "incontext", "categories", "defaults", "load", "classifier", "high_mark",
               "low_mark", "min_similarity", "numbers", "quota_entries", "bogus", "<<"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["default", "code", "private", "shared", ".inf", "[", "("]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.sampled_from(FIELD_NAMES), inner, max_size=5)),
                      max_leaves=25)
documents = st.dictionaries(st.sampled_from(["categories", "defaults", "load", "classifier", "extra"]), values, max_size=4)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_or_issues(text: str) -> PolicySet | list:
    try:
        return parse_policy_text(text)
    except PolicyError as error:
        assert error.errors, "a PolicyError lists at least one issue"
        return error.errors


def assert_line_precise(text: str, outcome) -> None:
    if isinstance(outcome, PolicySet):
        return
    last_line = text.count("\n") + 2  # an error at end of input points one past the last line
    for issue in outcome:
        assert issue.line is not None and 1 <= issue.line <= last_line, str(issue)
        assert issue.column is not None and issue.column >= 1, str(issue)


@PROPERTY_SETTINGS
@given(st.text(max_size=300))
def test_arbitrary_text_loads_or_gives_line_precise_errors(text):
    assert_line_precise(text, load_or_issues(text))


@PROPERTY_SETTINGS
@given(documents)
def test_arbitrary_mappings_load_or_give_line_precise_errors(document):
    text = yaml.safe_dump(document, sort_keys=False)
    assert_line_precise(text, load_or_issues(text))


@PROPERTY_SETTINGS
@given(st.data())
def test_the_shipped_policy_with_one_line_damaged_loads_or_points_at_a_line(data):
    lines = SHIPPED_POLICY.read_text().splitlines()
    index = data.draw(st.integers(0, len(lines) - 1))
    replacement = data.draw(st.one_of(st.text(max_size=40), st.builds(lambda v: yaml.safe_dump(v).strip(), values)))
    keep_indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    text = "\n".join([*lines[:index], keep_indent + replacement, *lines[index + 1:]])
    assert_line_precise(text, load_or_issues(text))


def test_control_characters_are_reported_at_their_line_and_column():
    issues = load_or_issues(MINIMAL.replace("sort a list", "sort\x07a list"))
    assert [(i.line, i.column) for i in issues] == [(3, 29)]
    assert "U+0007" in issues[0].message


def test_deep_nesting_is_refused_at_its_line_instead_of_exhausting_the_stack():
    text = MINIMAL + "defaults:\n  guards: " + "[" * 5000 + "]" * 5000 + "\n"
    issues = load_or_issues(text)
    # Levels 1 and 2 are the document and `defaults`; the brackets open at column 11 on level 3.
    assert [(i.line, i.column) for i in issues] == [(6, 11 + (MAX_DEPTH + 1) - 3)]
    assert "nested deeper" in issues[0].message


def test_a_valid_policy_still_loads():
    assert isinstance(load_or_issues(MINIMAL), PolicySet)
