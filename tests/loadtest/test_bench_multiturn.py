"""The multi-turn benchmark's driver: conversations take turns, at most `concurrency` turns in
flight, and each turn's prompt carries the conversation so far (the benchmark itself runs a
model for minutes; here a stand-in engine answers)."""

import argparse

from gpu_backend.engine import RequestOutput, SamplingParams, Sequence
from loadtest.benches import multiturn


class ScriptedEngine:
    """Answers each request with 'answer N' in one step, oldest request first."""

    def __init__(self) -> None:
        self.seqs: list[Sequence] = []
        self.prompts: list[list[int]] = []
        self.most_in_flight = 0

    def add_request(self, prompt: list[int], params: SamplingParams) -> Sequence:
        seq = Sequence(len(self.prompts), prompt, params)
        self.seqs.append(seq)
        self.prompts.append(prompt)
        self.most_in_flight = max(self.most_in_flight, len(self.seqs))
        return seq

    def step(self) -> list[RequestOutput]:
        seq = self.seqs.pop(0)
        seq.append_token(7, 1.0)
        return [RequestOutput(seq.seq_id, [7], f"answer {seq.seq_id}", True, None, seq.num_prompt_tokens, 1, 0)]


def render(messages: list[dict]) -> list[int]:
    """A stand-in chat template: one token per character of every message."""
    return [ord(c) for m in messages for c in m["role"][0] + m["content"]]


def test_conversations_take_turns_and_carry_their_history():
    conversations = multiturn.conversation_messages(["first question?", "another one?", "a third?"], turns=3)
    assert [len(c) for c in conversations] == [3, 3, 3]
    assert all(c[1] in multiturn.FOLLOW_UPS for c in conversations)
    engine = ScriptedEngine()
    records = multiturn.serve(engine, render, conversations, max_tokens=1, concurrency=2)
    assert len(records) == 9 and engine.most_in_flight == 2
    assert [(r["conversation"], r["turn"]) for r in records[:4]] == [(0, 1), (1, 1), (2, 1), (0, 2)]
    # a later turn's prompt is the earlier prompt, the answer it got, and the new message
    first, second = engine.prompts[0], engine.prompts[3]
    assert second[: len(first)] == first
    assert second[len(first):] == render([{"role": "assistant", "content": "answer 0"},
                                          {"role": "user", "content": conversations[0][1]}])


def test_flags():
    parser = argparse.ArgumentParser()
    multiturn.add_arguments(parser)
    args = parser.parse_args(["--conversations", "3", "--turns", "2", "--json"])
    assert args.conversations == 3 and args.turns == 2 and args.json and args.pool_share == 0.35
