"""Passes that reuse a Workspace compute exactly what fresh passes compute."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import Config, Workspace, gradients, init_params, run

CASES = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


def problem(cell: str, loss: str, T: int, B: int, seed: int, dtype: str = "float64"):
    rng = np.random.default_rng(seed)
    params = init_params(cell, 3, 5, 2, w_rec_scale=1.1, seed=seed, dtype=dtype)
    params["b_hh"] += rng.uniform(-0.5, 0.5, params["b_hh"].shape).astype(dtype)
    x = rng.standard_normal((T, B, 3)).astype(dtype)
    target = rng.standard_normal((B, 2) if loss == "last" else (T, B, 2)).astype(dtype)
    return params, x, target


def assert_same(a, b) -> None:
    assert a.loss == b.loss
    for name in a.grads:
        np.testing.assert_array_equal(a.grads[name], b.grads[name])
    np.testing.assert_array_equal(a.dh, b.dh)
    np.testing.assert_array_equal(a.hidden, b.hidden)
    np.testing.assert_array_equal(a.log10_dh_norm, b.log10_dh_norm)
    if a.dc is not None:
        np.testing.assert_array_equal(a.dc, b.dc)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("loss", ["last", "sum"])
@pytest.mark.parametrize(("cell", "activation"), CASES)
def test_a_reused_workspace_gives_the_fresh_result(cell, activation, loss, dtype):
    """Successive passes of other data, other lengths and truncation through one workspace: each
    equals the pass without one, bit for bit (nothing of an earlier pass leaks into a later one)."""
    workspace = Workspace()
    for seed, T, B, truncation in [(1, 9, 4, None), (2, 9, 4, 3), (3, 40, 4, None), (4, 9, 2, 2), (5, 9, 4, None)]:
        params, x, target = problem(cell, loss, T, B, seed, dtype)
        options = {"activation": activation, "loss": loss, "truncation": truncation}
        fresh = gradients(cell, params, x, target, **options)
        reused = gradients(cell, params, x, target, workspace=workspace, **options)
        assert_same(fresh, reused)


def test_the_workspace_hands_back_the_same_memory_for_the_same_shape():
    workspace = Workspace()
    first = workspace.array("a", (3, 4), np.float64)
    assert workspace.array("a", (3, 4), "float64") is first
    assert workspace.array("a", (3, 5), np.float64).shape == (3, 5)
    assert workspace.array("a", (3, 5), np.float32).dtype == np.float32
    assert workspace.nbytes == 3 * 5 * 4
    params, x, target = problem("lstm", "last", 20, 4, 0)
    gradients("lstm", params, x, target, workspace=workspace)
    held = workspace.nbytes
    gradients("lstm", params, x, target, workspace=workspace)
    assert workspace.nbytes == held > 0


def test_run_frames_do_not_change_when_later_updates_reuse_the_memory():
    """run() keeps one workspace for its updates: a frame already yielded keeps its numbers."""
    config = Config(cell="lstm", hidden_size=8, seq_len=30, batch_size=4, iterations=4)
    frames, copies = [], []
    for frame in run(config):
        frames.append(frame)
        copies.append((frame.loss, frame.log10_dh_norm.copy(), frame.log10_dc_norm.copy()))
    for frame, (loss, log10_dh, log10_dc) in zip(frames, copies):
        assert frame.loss == loss
        np.testing.assert_array_equal(frame.log10_dh_norm, log10_dh)
        np.testing.assert_array_equal(frame.log10_dc_norm, log10_dc)
    assert not np.array_equal(copies[0][1], copies[-1][1])
