"""Hot reload: a valid policy is swapped in with what derives from it; an invalid one changes nothing."""

import textwrap
import threading

from policy_texts import MINIMAL

from policies.loader import parse_policy_text
from policies.reload import PolicyHolder


def category_names(policies):
    return policies.names


def test_a_valid_policy_replaces_the_old_one_and_bumps_the_version(write_policy):
    holder = PolicyHolder(parse_policy_text(MINIMAL), derive=category_names)
    assert (holder.current.version, holder.current.derived) == (1, ("code", "default"))

    path = write_policy(MINIMAL.replace("  - name: default", "  - name: news\n    keywords: [headlines]\n  - name: default"))
    result = holder.offer_file(path)
    assert result.accepted and result.version == 2 and result.errors == ()
    active = holder.current
    assert active.version == 2 and active.policies.names == ("code", "news", "default")
    assert active.derived == active.policies.names  # derived from the same policy, swapped together
    assert active.policies.source == str(path)


def test_an_invalid_policy_is_rejected_with_its_errors_and_the_old_one_stays():
    holder = PolicyHolder(parse_policy_text(MINIMAL), derive=category_names)
    before = holder.current
    bad = MINIMAL.replace("  - name: default\n", "  - name: default\n    eviction: fifo\n")
    result = holder.offer_text(bad, source="<admin>")
    assert not result.accepted and result.version == 1
    [issue] = result.errors
    assert (issue.source, issue.line, issue.path, issue.allowed) == ("<admin>", 5, "categories.default.eviction", "lru, lfu")
    assert holder.current is before


def test_a_policy_file_that_disappeared_is_rejected(tmp_path):
    holder = PolicyHolder(parse_policy_text(MINIMAL), derive=category_names)
    result = holder.offer_file(tmp_path / "gone.yaml")
    assert not result.accepted and "cannot read" in result.errors[0].message
    assert holder.current.version == 1


def test_readers_never_see_a_policy_without_its_derived_value():
    holder = PolicyHolder(parse_policy_text(MINIMAL), derive=category_names)
    variants = [textwrap.dedent(MINIMAL).replace("name: code", f"name: code{i}") for i in range(30)]
    mismatches = []

    def read():
        for _ in range(3000):
            active = holder.current
            if active.derived != active.policies.names:
                mismatches.append(active.version)

    reader = threading.Thread(target=read)
    reader.start()
    for text in variants:
        assert holder.offer_text(text).accepted
    reader.join()
    assert mismatches == [] and holder.current.version == 31
