"""The decode-attention benchmark: realistic step inputs, both implementations timed, the ratio printed."""

import argparse
import json

import pytest
import torch

from gpu_backend.kernels import cpu_decode_attention
from loadtest.benches import decode_attention

pytestmark = pytest.mark.skipif(not cpu_decode_attention.available(), reason="no C compiler for the native kernel")


def test_step_inputs_scatter_each_sequence_over_its_own_blocks():
    q, k_pool, v_pool, tables, lens = decode_attention.step_inputs(batch=5, mean_context=40)
    assert q.shape == (5, 9, 64) and k_pool.shape[0] == decode_attention.LAYERS
    assert lens.tolist() == sorted(lens.tolist()) and all(20 <= n <= 60 for n in lens.tolist())
    used = [tables[row, : -(-int(n) // decode_attention.BLOCK)].tolist() for row, n in enumerate(lens)]
    flat = [block for blocks in used for block in blocks]
    assert len(flat) == len(set(flat)) and max(flat) < k_pool.shape[1]  # no block shared, all in the pool


def test_run_reports_both_implementations_and_their_ratio(capsys):
    before = torch.get_num_threads()
    try:
        args = argparse.Namespace(batch="2", context="16", rounds=1, threads=1, json=True)
        assert decode_attention.run(args) == 0
    finally:
        torch.set_num_threads(before)
    row, = json.loads(capsys.readouterr().out)["rows"]
    assert row["batch"] == 2 and row["max_abs_error"] < 1e-5
    assert row["ratio_best"] == pytest.approx(row["reference_ms_best"] / row["native_ms_best"])
