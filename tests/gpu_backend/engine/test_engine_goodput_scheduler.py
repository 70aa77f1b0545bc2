"""The goodput scheduler on constructed cases: who is admitted first, who is stepped when,
what the output-length estimate and the step-time model say; and, end to end, that it
changes the order of work but never the tokens."""

import functools

import pytest
from engine_support import tiny_engine

from gpu_backend.engine import SamplingParams
from gpu_backend.engine.block_manager import BlockManager
from gpu_backend.engine.goodput_policy import GoodputPolicy
from gpu_backend.engine.length_estimator import OutputLengthEstimator
from gpu_backend.engine.scheduler import ScheduledBatch, Scheduler
from gpu_backend.engine.scheduling_policy import RunQueues
from gpu_backend.engine.sequence import Sequence
from gpu_backend.engine.slo import RequestSLO
from gpu_backend.engine.step_cost import StepCostModel
from gpu_backend.kv import KVPool

PARAMS = SamplingParams(max_tokens=100, temperature=0)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_scheduler(clock: Clock, max_running: int = 8) -> tuple[Scheduler, GoodputPolicy]:
    pool = KVPool.create(64, num_layers=1, num_kv_heads=1, head_dim=4, block_size=4)
    # 10 ms per step plus 1 ms per token, known exactly
    cost = StepCostModel(fixed_s=0.010, per_token_s=0.001)
    queues = RunQueues(max_running=max_running, max_prefill_tokens=64)
    policy = GoodputPolicy(queues, cost=cost, clock=clock)
    return Scheduler(BlockManager(pool), queues, [policy]), policy


def request(seq_id: int, arrival: float, slo: RequestSLO, prompt_len: int = 8) -> Sequence:
    return Sequence(seq_id, list(range(1, prompt_len + 1)), PARAMS, arrival_time=arrival, slo=slo)


def test_least_slack_first_then_no_slo_then_hopeless():
    clock = Clock()
    scheduler, policy = make_scheduler(clock)
    relaxed = request(0, arrival=99.0, slo=RequestSLO(ttft_s=5.0))
    best_effort = request(1, arrival=98.0, slo=RequestSLO())
    hopeless = request(2, arrival=90.0, slo=RequestSLO(ttft_s=1.0))  # its TTFT passed 9 s ago
    urgent = request(3, arrival=99.9, slo=RequestSLO(ttft_s=0.5))
    deadline_job = request(4, arrival=99.0, slo=RequestSLO(deadline_s=3.0))
    for seq in (relaxed, best_effort, hopeless, urgent, deadline_job):
        scheduler.add(seq)
    scheduler.order_waiting()
    # urgent must start by ~100.4, the deadline job by ~101.9 (100 tokens at ~11 ms), relaxed by ~104
    assert [s.seq_id for s in scheduler.waiting] == [3, 4, 0, 1, 2]


def test_a_longer_expected_answer_makes_a_deadline_job_more_urgent():
    clock = Clock()
    scheduler, policy = make_scheduler(clock)
    short_answers, long_answers = RequestSLO(deadline_s=2.0, category="short"), RequestSLO(deadline_s=2.0, category="long")
    for _ in range(20):
        policy.estimator.record("short", 5)
        policy.estimator.record("long", 90)
    short_job, long_job = request(0, 99.5, short_answers), request(1, 99.5, long_answers)
    scheduler.add(short_job)
    scheduler.add(long_job)
    scheduler.order_waiting()
    assert [s.seq_id for s in scheduler.waiting] == [1, 0]


def test_a_decode_ahead_of_its_tpot_skips_steps_until_its_next_token_is_due():
    clock = Clock()
    scheduler, policy = make_scheduler(clock)
    seq = request(0, arrival=99.0, slo=RequestSLO(ttft_s=2.0, tpot_s=0.2))
    seq.first_token_time = 100.0
    seq.token_ids += [7, 8]  # two tokens out: the third is due at 100.0 + 2 * 0.2 (times the headroom)
    seq.num_computed_tokens = seq.num_tokens - 1
    step, due = policy.step_time(), 100.0 + 2 * 0.2 * policy.headroom
    assert not policy.wants_step(seq)  # due in ~0.24 s, a step takes ~11 ms
    clock.now = due - policy.margin * step - 1e-3
    assert not policy.wants_step(seq)
    clock.now = due - policy.margin * step + 1e-6
    assert policy.wants_step(seq)
    no_slo = request(1, arrival=99.0, slo=RequestSLO())
    no_slo.first_token_time, no_slo.token_ids = 99.5, no_slo.token_ids + [5]
    no_slo.num_computed_tokens = no_slo.num_tokens - 1
    clock.now = 100.0
    assert policy.wants_step(no_slo)


def test_under_overload_the_longest_prompt_gives_way_to_short_ones_that_still_make_their_ttft():
    clock = Clock()
    scheduler, policy = make_scheduler(clock)  # 64 prompt tokens a step: ~74 ms a full step
    ttft = RequestSLO(ttft_s=0.2)
    long = request(0, arrival=100.0, slo=ttft, prompt_len=100)  # least slack: two steps of prefill
    shorts = [request(i, arrival=100.0, slo=ttft, prompt_len=20) for i in range(1, 5)]
    for seq in (long, *shorts):
        scheduler.add(seq)
    scheduler.order_waiting()
    # Behind the long prompt the fourth short one gets its first token at ~100.21: one would
    # miss whatever the order; the long one goes, and the four short ones are all on time.
    assert list(scheduler.waiting) == [*shorts, long]
    assert policy.urgency(long, clock.now)[0] == 0  # still feasible alone; late only in this queue


def running(scheduler: Scheduler, *seqs: Sequence) -> None:
    """Admit `seqs` and make each a decode that has produced its first token at 100.0."""
    for seq in seqs:
        scheduler.add(seq)
    batch = scheduler.schedule()
    assert sorted(s.seq_id for s in batch.seqs) == sorted(s.seq_id for s in seqs)
    for seq in seqs:
        seq.first_token_time, seq.token_ids = 100.0, seq.token_ids + [5]
        seq.num_computed_tokens = seq.num_tokens - 1


def test_a_request_that_cannot_wait_takes_the_slot_of_the_running_one_that_can_wait_longest():
    clock = Clock()
    scheduler, policy = make_scheduler(clock, max_running=2)
    # 99 more tokens at ~12 ms a decode step: ~1.2 s of service; both jobs can wait that long
    soon, late = request(0, 100.0, RequestSLO(deadline_s=20.0)), request(1, 100.0, RequestSLO(deadline_s=60.0))
    running(scheduler, soon, late)
    chat = request(2, arrival=100.0, slo=RequestSLO(ttft_s=0.5, tpot_s=0.5))
    scheduler.add(chat)
    clock.now = 100.1
    batch = scheduler.schedule()
    assert chat in batch.seqs and late in scheduler.waiting and scheduler.running == [soon, chat]
    assert policy.yielded_slots == 1 and late.num_computed_tokens == 0  # recomputed when its turn comes


def test_no_slot_is_taken_for_a_request_that_can_wait_or_from_one_that_cannot():
    clock = Clock()
    scheduler, policy = make_scheduler(clock, max_running=2)
    # 1.5 s to the deadline, ~1.2 s of service left: these jobs cannot wait a turn
    tight = [request(i, 100.0, RequestSLO(deadline_s=1.5)) for i in range(2)]
    running(scheduler, *tight)
    waiting_job = request(2, 100.0, RequestSLO(deadline_s=60.0))  # can wait: no reason to preempt for it
    chat = request(3, 100.0, RequestSLO(ttft_s=0.5))
    for seq in (waiting_job, chat):
        scheduler.add(seq)
    clock.now = 100.1
    batch = scheduler.schedule()
    assert policy.yielded_slots == 0 and scheduler.running == tight
    assert set(batch.seqs) == set(tight) and list(scheduler.waiting) == [chat, waiting_job]


def test_nobody_is_paced_while_a_feasible_request_waits_for_a_slot():
    clock = Clock()
    scheduler, policy = make_scheduler(clock, max_running=2)
    # chats far ahead of a 2 s TPOT (next token due at 101.2), whose own TPOT forbids a requeue
    chats = [request(i, 99.9, RequestSLO(ttft_s=1.0, tpot_s=2.0)) for i in range(2)]
    running(scheduler, *chats)
    clock.now = 100.1
    scheduler.schedule()  # nothing waits: both skip (then the idle step runs them anyway)
    assert policy.skipped_decodes == 2
    scheduler.add(request(2, arrival=100.0, slo=RequestSLO(ttft_s=1.0)))
    batch = scheduler.schedule()
    assert policy.skipped_decodes == 2 and set(batch.seqs) == set(chats)  # stepped to free a slot sooner
    assert policy.yielded_slots == 0


def test_remaining_tokens_are_costed_as_decode_steps_not_as_the_last_step():
    clock = Clock()
    scheduler, policy = make_scheduler(clock)
    scheduler.observe_step(ScheduledBatch([], [512]), 0.010 + 0.512)  # a full prefill step, exactly on the model
    job = request(0, arrival=100.0, slo=RequestSLO(deadline_s=3.0))
    # 8 prompt tokens (18 ms) and 100 tokens of ~11 ms decode steps (one running row), not 522 ms each
    assert policy.latest_start(job, clock.now) == pytest.approx(103.0 - 0.018 - 100 * 0.011)


def test_output_length_estimate_is_an_upper_quantile_refined_by_tokens_so_far():
    estimator = OutputLengthEstimator(quantile=0.9, default=64)
    assert estimator.total("chat", generated=0, max_tokens=None) == 64  # no history yet
    for length in range(1, 101):
        estimator.record("chat", length)
    assert estimator.total("chat", generated=0, max_tokens=None) == 91  # ceil of the 0.9 quantile: conservative
    assert estimator.total("chat", generated=80, max_tokens=None) == 99  # among the answers longer than 80
    assert estimator.total("chat", generated=0, max_tokens=50) == 50
    assert estimator.total("chat", generated=150, max_tokens=None) == 300  # longer than any seen
    assert estimator.total("other", generated=0, max_tokens=None) == 91  # falls back to all categories


def test_step_cost_model_learns_a_linear_cost():
    model = StepCostModel()
    for tokens in (1, 8, 32, 64, 128, 16) * 20:
        model.observe(tokens, 0.05 + 0.0005 * tokens)
    fixed, per_token = model.coefficients
    assert fixed == pytest.approx(0.05, rel=0.05) and per_token == pytest.approx(0.0005, rel=0.05)


def test_slo_from_headers():
    slo = RequestSLO.from_headers({"x-semgate-slo-ttft-ms": "500", "x-semgate-slo-tpot-ms": "50",
                                   "x-semgate-category": "chat"})
    assert slo == RequestSLO(ttft_s=0.5, tpot_s=0.05, category="chat")
    with pytest.raises(ValueError):
        RequestSLO.from_headers({"x-semgate-slo-ttft-ms": "soon"})
    assert slo.met(arrival=0.0, first_token=0.4, finish=1.4, num_output_tokens=21)
    assert not slo.met(arrival=0.0, first_token=0.6, finish=1.4, num_output_tokens=21)


@pytest.fixture(scope="module")
def make_engine(smollm2):
    return functools.partial(tiny_engine, smollm2.tokenizer)


def test_goodput_scheduling_changes_the_order_not_the_tokens(smollm2, make_engine):
    prompts = [smollm2.tokenizer.encode(f"Question {i}: tell me about item {i * 3}.") for i in range(6)]
    params = SamplingParams(max_tokens=16, temperature=0, ignore_eos=True)
    expected = [r.token_ids for r in make_engine().generate(prompts, params)]
    engine = make_engine(scheduler="goodput")
    slos = [RequestSLO(ttft_s=5, tpot_s=0.5), RequestSLO(deadline_s=30), RequestSLO()] * 2
    seqs = [engine.add_request(p, params, slo=slo) for p, slo in zip(prompts, slos)]
    while engine.has_unfinished():
        engine.step()
    assert [seq.output_token_ids for seq in seqs] == expected
    assert engine.scheduler.stats()["goodput_skipped_decodes"] > 0  # the 0.5 s TPOT request was paced
