"""Policy validation: every rule, each error naming the file, line, field and the values allowed."""

import textwrap

import pytest

from policies.errors import PolicyError, PolicyIssue
from policies.loader import load_policy_file, parse_policy_text

BASE_CATEGORIES = """\
  - name: code
    examples: [how do I sort a list in python]
  - name: default
"""


def with_base(text: str) -> str:
    return textwrap.dedent(text) + BASE_CATEGORIES


def errors_of(text: str) -> list[PolicyIssue]:
    with pytest.raises(PolicyError) as caught:
        parse_policy_text(textwrap.dedent(text), source="test.yaml")
    return caught.value.errors


def only_error(text: str) -> PolicyIssue:
    errors = errors_of(text)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


def test_out_of_range_threshold_names_file_line_field_and_range(write_policy):
    path = write_policy(
        """\
        categories:
          - name: code
            examples: [how do I sort a list]
            similarity_threshold: 1.3
          - name: default
        """
    )
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    [issue] = caught.value.errors
    assert (issue.source, issue.line, issue.path) == (str(path), 4, "categories.code.similarity_threshold")
    assert issue.allowed == "a number from 0 to 1"
    assert str(issue).startswith(f"{path}:4:27: categories.code.similarity_threshold: 1.3 is out of range")


def test_bad_eviction_and_scope_list_the_allowed_values():
    errors = errors_of(with_base("""\
        defaults:
          eviction: fifo
          scope: global
        categories:
        """))
    assert [(e.line, e.path, e.allowed) for e in errors] == [
        (2, "defaults.eviction", "lru, lfu"),
        (3, "defaults.scope", "private, shared"),
    ]


def test_wrong_types_are_reported_with_what_was_found():
    errors = errors_of(with_base("""\
        defaults:
          cacheable: "yes"
          max_entries: 10.5
          ttl_seconds: soon
          guards: true
        categories:
        """))
    assert [(e.line, e.path) for e in errors] == [
        (2, "defaults.cacheable"), (3, "defaults.max_entries"), (4, "defaults.ttl_seconds"), (5, "defaults.guards"),
    ]
    assert "expected true or false, got string 'yes'" in errors[0].message
    assert "expected an integer" in errors[1].message
    assert "expected a mapping" in errors[3].message


def test_ranges_of_counts_and_durations():
    errors = errors_of(with_base("""\
        defaults:
          ttl_seconds: 0
          max_entries: 0
          stream_replay: {chunk_tokens: 0}
          adaptive: {max_ttl_factor: 0.5}
        categories:
        """))
    assert [e.allowed for e in errors] == ["a number > 0", "a number >= 1", "a number >= 1", "a number >= 1"]


def test_unknown_field_suggests_the_close_one_and_lists_all():
    issue = only_error(
        """\
        categories:
          - name: code
            examples: [sort a list]
            ttl: 60
          - name: default
        """
    )
    assert issue.line == 4 and issue.path == "categories.code.ttl"
    assert "did you mean 'ttl_seconds'?" in issue.message
    assert "ttl_seconds" in issue.allowed and "similarity_threshold" in issue.allowed


def test_unknown_section_and_category_only_fields_under_defaults():
    errors = errors_of(with_base("""\
        cache: {}
        defaults:
          examples: [hello]
        categories:
        """))
    assert [(e.line, e.path) for e in errors] == [(1, "cache"), (3, "defaults.examples")]
    assert "belongs to a category" in errors[1].message


def test_duplicate_category_names_point_at_the_second_and_the_first():
    issue = only_error(
        """\
        categories:
          - name: code
            examples: [sort a list]
          - name: code
            keywords: [python]
          - name: default
        """
    )
    assert issue.line == 4 and "first defined on line 2" in issue.message


def test_duplicate_yaml_keys_are_errors_not_silently_overwritten():
    issue = only_error(
        """\
        categories:
          - name: code
            examples: [sort a list]
            ttl_seconds: 60
            ttl_seconds: 600
          - name: default
        """
    )
    assert issue.line == 5 and "duplicate key (first set on line 4)" in issue.message


def test_regex_that_does_not_compile():
    issue = only_error(
        """\
        categories:
          - name: code
            patterns: ['(unclosed']
          - name: default
        """
    )
    assert issue.path == "categories.code.patterns[0]" and issue.line == 3
    assert "does not compile" in issue.message


def test_incontext_categories_must_exist():
    issue = only_error(
        """\
        categories:
          - name: code
            examples: [sort a list]
            incontext: {enabled: true, categories: [code, snippets]}
          - name: default
        """
    )
    assert issue.path == "categories.code.incontext.categories[1]"
    assert "unknown category 'snippets'" in issue.message and issue.allowed == "code, default"


def test_a_default_category_is_required():
    issue = only_error(
        """\
        categories:
          - name: code
            examples: [sort a list]
        """
    )
    assert issue.line == 1 and "no category named 'default'" in issue.message


def test_adaptive_bound_above_its_threshold_says_where_each_value_comes_from():
    issue = only_error(
        """\
        defaults:
          similarity_threshold: 0.9
        categories:
          - name: code
            examples: [sort a list]
            adaptive: {min_similarity: 0.95}
          - name: default
        """
    )
    assert issue.line == 6 and issue.path == "categories.code.adaptive.min_similarity"
    assert "0.95 (set on line 6) is above similarity_threshold 0.9 (from defaults, line 2)" in issue.message
    assert issue.allowed == "a number from 0 to 0.9"


def test_lowering_a_threshold_below_the_inherited_bound_is_caught():
    issue = only_error(
        """\
        categories:
          - name: code
            examples: [sort a list]
            verifier_threshold: 0.3
          - name: default
        """
    )
    assert issue.path == "categories.code.adaptive.min_verifier" and issue.line == 4
    assert "built-in default" in issue.message


def test_personal_and_shared_together_is_an_error():
    issue = only_error(
        """\
        categories:
          - name: account
            examples: [what is my balance]
            personal: true
            scope: shared
          - name: default
        """
    )
    assert issue.line == 5 and issue.path == "categories.account.scope" and issue.allowed == "private"


def test_personal_category_inheriting_shared_scope_is_forced_private():
    policies = parse_policy_text(
        textwrap.dedent(
            """\
            defaults: {scope: shared}
            categories:
              - name: account
                examples: [what is my balance]
                personal: true
              - name: default
            """))
    account = policies.get("account")
    assert account.scope == "private" and not account.is_shared
    assert account.namespace_tenant("acme") == "acme"
    assert policies.default.is_shared and policies.default.namespace_tenant("acme") == "*shared*"


def test_category_without_examples_or_rules_can_never_be_chosen():
    issue = only_error(
        """\
        categories:
          - name: code
          - name: default
        """
    )
    assert issue.path == "categories.code" and "can never be chosen" in issue.message


def test_category_names_must_be_header_and_label_safe():
    issue = only_error(
        """\
        categories:
          - name: Code Questions
            examples: [sort a list]
          - name: default
        """
    )
    assert "not a valid category name" in issue.message and issue.line == 2


def test_load_marks_need_a_gap_for_hysteresis():
    issue = only_error(with_base("""\
        load: {high_mark: 0.8, low_mark: 0.9}
        categories:
        """))
    assert issue.path == "load.low_mark" and issue.line == 1


def test_yaml_syntax_error_has_a_line():
    issue = only_error("categories:\n  - name: code\n   bad: [\n")
    assert issue.line is not None and issue.line >= 3 and "invalid YAML" in issue.message


def test_empty_text_and_missing_file(tmp_path):
    assert "empty" in only_error("").message
    with pytest.raises(PolicyError) as caught:
        load_policy_file(tmp_path / "absent.yaml")
    assert "cannot read" in caught.value.errors[0].message


def test_all_problems_are_reported_at_once_in_line_order():
    errors = errors_of(
        """\
        defaults:
          eviction: random
        categories:
          - name: code
            similarity_threshold: 2
            examples: [sort a list]
        """
    )
    assert [e.line for e in errors] == sorted(e.line for e in errors)
    assert {e.path for e in errors} == {"defaults.eviction", "categories.code.similarity_threshold", "categories"}


def test_defaults_are_inherited_field_by_field_including_nested_sections():
    policies = parse_policy_text(
        textwrap.dedent(
            """\
            defaults:
              ttl_seconds: 600
              eviction: lfu
              guards: {numbers: false}
              incontext: {enabled: true, k: 3}
            categories:
              - name: code
                examples: [sort a list]
                ttl_seconds: 60
                guards: {dates: false}
                incontext: {k: 5}
              - name: default
            """
        ),
        source="<admin>",
    )
    code, default = policies.get("code"), policies.default
    assert (code.ttl_seconds, code.eviction) == (60.0, "lfu")
    assert (code.guards.numbers, code.guards.dates, code.guards.negation) == (False, False, True)
    assert (code.incontext.enabled, code.incontext.k) == (True, 5)
    assert (default.ttl_seconds, default.guards.numbers, default.guards.dates, default.incontext.k) == (600.0, False, True, 3)
    assert policies.names == ("code", "default") and policies.source == "<admin>"
    assert policies.get("vanished") is default  # a name from an older policy falls back to default


def test_yaml_anchors_and_merge_keys_work():
    policies = parse_policy_text(
        textwrap.dedent(
            """\
            defaults: &short {ttl_seconds: 60, max_entries: 100}
            categories:
              - name: news
                <<: *short
                keywords: [headlines]
              - name: default
            """))
    assert policies.get("news").ttl_seconds == 60.0 and policies.get("news").max_entries == 100
