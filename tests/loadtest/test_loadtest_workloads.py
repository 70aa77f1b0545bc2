"""Workload generators: seeded and reproducible, with the labels and repetition shapes they promise."""

import io
import itertools
import json
from collections import Counter

import pytest

from loadtest.workloads import WORKLOADS, WorkloadOptions, build_workload
from loadtest.workloads.clinc_mix import POWER_LAW_DOMAINS, ClincCategoryMix
from loadtest.workloads.jsonl_file import JsonlFileReplay
from loadtest.workloads.multi_turn import FOLLOW_UPS, MultiTurnConversations
from loadtest.workloads.qqp_paraphrase import QQPParaphraseStream, duplicate_groups, paraphrase_pool
from loadtest.workloads.sharegpt import ShareGPTReplay, iter_json_array, read_conversations

OPTIONS = WorkloadOptions(model="m", seed=7, max_tokens=32)


def take(workload, n):
    return list(itertools.islice(workload.requests(), n))


@pytest.fixture(scope="module")
def workloads():
    """One small instance of each data-backed workload (loading the data once keeps the tests fast)."""
    return {
        "sharegpt": lambda o: ShareGPTReplay(o, conversations=300),
        "qqp": lambda o: QQPParaphraseStream(o, pairs=3000),
        "clinc": ClincCategoryMix,
        "multiturn": lambda o: MultiTurnConversations(o, histories=40),
    }


@pytest.mark.parametrize("name", ["sharegpt", "qqp", "clinc", "multiturn"])
def test_same_seed_same_requests_other_seed_other_requests(workloads, name):
    make = workloads[name]
    first = take(make(OPTIONS), 200)
    assert take(make(OPTIONS), 200) == first
    # A second pass over the same instance restarts the same sequence: runs at several rates compare like for like.
    workload = make(OPTIONS)
    assert take(workload, 50) == take(workload, 50)
    other = take(make(WorkloadOptions(model="m", seed=8, max_tokens=32)), 200)
    assert [s.messages for s in other] != [s.messages for s in first]
    assert all(s.model == "m" and 1 <= s.max_tokens <= 32 and s.messages[-1]["role"] == "user" for s in first)


def test_registry_names_every_workload():
    assert set(WORKLOADS) == {"sharegpt", "qqp", "clinc", "multiturn", "jsonl"}
    with pytest.raises(ValueError, match="unknown workload"):
        build_workload("nope", OPTIONS)


def test_json_array_decoding_stops_cleanly_at_a_truncation():
    text = '[{"id": "a", "conversations": []},\n {"id": "b"}, {"id": "c", "conversations": [{"from": "hu'
    assert [item["id"] for item in iter_json_array(io.StringIO(text))] == ["a", "b"]
    assert list(iter_json_array(io.StringIO("[1, 23, 456]"))) == [1, 23, 456]


def test_sharegpt_reader_keeps_conversations_that_start_with_a_user_turn():
    rows = [
        {"id": "x", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]},
        {"id": "y", "conversations": [{"from": "gpt", "value": "I start"}]},
        {"id": "z", "conversations": [{"from": "alien", "value": "?"}]},
    ]
    conversations = read_conversations(io.StringIO(json.dumps(rows)[:-1]), limit=10)
    assert [c.id for c in conversations] == ["x"]
    assert conversations[0].messages == ({"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"})


def test_sharegpt_replay_sizes_max_tokens_from_the_recorded_answer(workloads):
    specs = take(workloads["sharegpt"](WorkloadOptions(model="m", max_tokens=10_000)), 300)
    assert len({s.max_tokens for s in specs}) > 10  # follows each answer rather than a constant
    assert all(len(s.messages) == 1 for s in specs)


def test_duplicate_groups_are_transitive_and_ignore_non_duplicates():
    pairs = [("a", "b", True), ("b", "c", True), ("c", "d", False), ("e", "f", True)]
    assert duplicate_groups(pairs) == [["a", "b", "c"], ["d"], ["e", "f"]]
    # "d" stays as a hard negative of the a-b-c group; a lone question with no link does not.
    assert paraphrase_pool(pairs + [("g", "h", False)]) == [["a", "b", "c"], ["d"], ["e", "f"]]


def test_qqp_requests_carry_their_duplicate_group(workloads):
    workload = workloads["qqp"](OPTIONS)
    members = {f"qqp-{i}": set(g) for i, g in enumerate(workload.groups)}
    specs = take(workload, 500)
    assert all(s.question in members[s.group] for s in specs)
    groups = Counter(s.group for s in specs)
    # Zipf popularity: the most popular group recurs far more than an average one.
    assert groups.most_common(1)[0][1] >= 10 * len(specs) / len(workload.groups)
    # Paraphrases: some popular group is asked in more than one phrasing.
    assert any(len({s.question for s in specs if s.group == g}) > 1 for g, _ in groups.most_common(5))


def test_clinc_power_law_categories_repeat_more_than_near_uniform_ones():
    specs = take(ClincCategoryMix(OPTIONS), 4000)
    assert {s.category for s in specs} == set(ClincCategoryMix(OPTIONS).domains)

    def repeat_share(domains):
        questions = [s.question for s in specs if s.category in domains]
        return 1 - len(set(questions)) / len(questions)

    others = {s.category for s in specs} - set(POWER_LAW_DOMAINS)
    assert repeat_share(POWER_LAW_DOMAINS) > repeat_share(others) + 0.2
    assert all(s.group.startswith("clinc-") for s in specs)


def test_multi_turn_asks_the_same_follow_up_after_different_histories(workloads):
    specs = take(workloads["multiturn"](OPTIONS), 400)
    assert all(s.question in FOLLOW_UPS and len(s.messages) >= 3 for s in specs)
    same_question = [s for s in specs if s.question == specs[0].question]
    histories = {json.dumps(s.messages[:-1]) for s in same_question}
    assert len(histories) > 1
    # The group follows the history: one group, one history.
    by_group = {}
    for s in specs:
        by_group.setdefault(s.group, set()).add(json.dumps(s.messages[:-1]))
    assert all(len(h) == 1 for h in by_group.values())


def test_jsonl_file_replays_in_order_with_defaults_and_overrides(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "one"}], "category": "billing", "group": "g1",
                    "slo": {"ttft_s": 0.5}}) + "\n\n"
        + json.dumps({"prompt": "two", "max_tokens": 5, "stream": False}) + "\n"
    )
    specs = take(JsonlFileReplay(WorkloadOptions(model="m", path=path)), 5)
    assert [s.question for s in specs] == ["one", "two", "one", "two", "one"]
    assert specs[0].category == "billing" and specs[0].slo.ttft_s == 0.5 and specs[0].endpoint == "/v1/chat/completions"
    assert specs[1].endpoint == "/v1/completions" and specs[1].max_tokens == 5 and not specs[1].stream


@pytest.mark.parametrize("line, problem", [
    ("not json", "not JSON"),
    ('{"messages": [{"role": "user"}]}', "non-empty list"),
    ('{"prompt": "a", "messages": []}', "exactly one"),
    ('{"prompt": "a", "temperature": 1}', "unknown field"),
])
def test_jsonl_file_errors_name_the_line(tmp_path, line, problem):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "fine"}\n' + line + "\n")
    with pytest.raises(ValueError, match=f"bad.jsonl:2: .*{problem}"):
        JsonlFileReplay(WorkloadOptions(model="m", path=path))


def test_system_prompt_goes_first_in_chat_requests_without_one():
    options = WorkloadOptions(model="m", seed=7, max_tokens=32, system_prompt="Answer in one sentence.")
    plain = take(build_workload("clinc", OPTIONS), 5)
    briefed = take(build_workload("clinc", options), 5)
    for before, after in zip(plain, briefed):
        assert after.messages == ({"role": "system", "content": "Answer in one sentence."}, *before.messages)
        assert (after.question, after.group) == (before.question, before.group)
