"""The batch split between two processes gives what one pass over the whole batch gives."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pytest

from gradlab.core import Config, gradients, init_params, run
from gradlab.core.parallel import BatchHelper, combine, worth_splitting

CASES = [
    ("rnn", "last", None, 5),
    ("rnn", "sum", 3, 4),
    ("lstm", "last", None, 3),
    ("lstm", "sum", 4, 6),
    ("gru", "last", 2, 5),
    ("gru", "sum", None, 2),
]


def _problem(cell: str, loss: str, batch: int, seq_len: int = 9, hidden: int = 6, seed: int = 0, **init: object):
    rng = np.random.default_rng(seed)
    params = init_params(cell, 2, hidden, 3, seed=seed, **init)  # type: ignore[arg-type]
    x = rng.standard_normal((seq_len, batch, 2))
    target = rng.standard_normal((batch, 3) if loss == "last" else (seq_len, batch, 3))
    return params, x, target


def _parts(cell, params, x, target, loss, truncation, split, activation="tanh"):  # type: ignore[no-untyped-def]
    axis = 0 if loss == "last" else 1
    results = []
    for rows in (slice(0, split), slice(split, x.shape[1])):
        part = gradients(
            cell,
            params,
            x[:, rows],
            np.take(target, np.arange(x.shape[1])[rows], axis=axis),
            loss=loss,
            truncation=truncation,
            activation=activation,
        )
        results.append((rows.stop - rows.start, part))
    return combine(results)


def _assert_same(whole, split, rtol: float = 1e-12) -> None:  # type: ignore[no-untyped-def]
    assert split.loss == pytest.approx(whole.loss, rel=rtol)
    assert split.grads.keys() == whole.grads.keys()
    for name, grad in whole.grads.items():
        scale = np.max(np.abs(grad)) or 1.0
        np.testing.assert_allclose(split.grads[name], grad, rtol=0, atol=rtol * scale, err_msg=name)
    assert split.grad_norm == pytest.approx(whole.grad_norm, rel=rtol)
    np.testing.assert_allclose(split.log10_dh_norm, whole.log10_dh_norm, rtol=0, atol=1e-12)
    if whole.log10_dc_norm is None:
        assert split.log10_dc_norm is None
    else:
        np.testing.assert_allclose(split.log10_dc_norm, whole.log10_dc_norm, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("cell", "loss", "truncation", "batch"), CASES)
def test_combined_parts_equal_the_whole_batch(cell, loss, truncation, batch):
    params, x, target = _problem(cell, loss, batch)
    whole = gradients(cell, params, x, target, loss=loss, truncation=truncation)
    for split in range(1, batch):  # uneven splits too: the parts are weighted by their rows
        _assert_same(whole, _parts(cell, params, x, target, loss, truncation, split))


def test_combined_norms_keep_underflow_exact_zeros_and_nan():
    # A linear RNN with W = 0.5·Q: the gradient reaches ~1e-150 at T = 500 and must not become 0;
    # truncation makes the steps beyond the window exactly zero (-inf), which must stay so.
    params, x, target = _problem("rnn", "last", 4, seq_len=500, hidden=8, init="orthogonal", w_rec_scale=0.5)
    x[1:] = 0.0
    whole = gradients("rnn", params, x, target, activation="linear")
    split = _parts("rnn", params, x, target, "last", None, 2, activation="linear")
    assert whole.log10_dh_norm[0] < -140
    np.testing.assert_allclose(split.log10_dh_norm, whole.log10_dh_norm, rtol=1e-13)
    truncated = combine(
        [
            (2, gradients("rnn", params, x[:, :2], target[:2], truncation=7)),
            (2, gradients("rnn", params, x[:, 2:], target[2:], truncation=7)),
        ]
    )
    assert np.all(np.isneginf(truncated.log10_dh_norm[:-7])) and np.all(np.isfinite(truncated.log10_dh_norm[-7:]))
    exploded = gradients("rnn", params, x[:, :2], target[:2])
    nan_part = type(exploded)(**{**exploded.__dict__, "log10_dh_norm": np.full(500, np.nan)})
    assert np.all(np.isnan(combine([(2, nan_part), (2, exploded)]).log10_dh_norm))


def test_float32_parts_stay_float32():
    params, x, target = _problem("gru", "last", 4)
    params = {name: value.astype(np.float32) for name, value in params.items()}
    split = _parts("gru", params, x, target, "last", None, 2)
    assert all(grad.dtype == np.float32 for grad in split.grads.values())


def test_small_passes_are_not_split():
    assert not worth_splitting(Config(hidden_size=12, seq_len=30, batch_size=4))
    assert not worth_splitting(Config(hidden_size=128, seq_len=1000, batch_size=1))
    assert not worth_splitting(Config())  # the default scene: one process is as fast
    assert worth_splitting(Config(hidden_size=128, seq_len=1000, batch_size=16))
    assert worth_splitting(Config(cell="lstm", hidden_size=128, seq_len=100, batch_size=16))


def _wait_until_free(helper: BatchHelper, what: str, timeout_s: float = 30.0) -> None:
    """Poll ``helper.ready()`` (started, and no answer outstanding) for up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not helper.ready():
        assert not helper.lost and time.monotonic() < deadline, what
        time.sleep(0.01)


@pytest.fixture
def helper():  # type: ignore[no-untyped-def]
    helper = BatchHelper.start()
    _wait_until_free(helper, "the batch helper did not start")
    yield helper
    helper.close()


def test_helper_process_computes_half_and_survives_being_killed(helper):
    params, x, target = _problem("lstm", "sum", 6)
    whole = gradients("lstm", params, x, target, loss="sum", truncation=4)
    _assert_same(whole, helper.gradients("lstm", params, x, target, loss="sum", truncation=4))
    assert not helper.lost
    helper._process.kill()  # type: ignore[union-attr]
    helper._process.join(5)  # type: ignore[union-attr]
    # The half it would have computed is computed here: the pass still has the whole batch.
    _assert_same(whole, helper.gradients("lstm", params, x, target, loss="sum", truncation=4))
    assert helper.lost


def test_a_pass_does_not_wait_for_the_answer_to_an_interrupted_one(helper):
    # An interrupted pass leaves the helper computing a half nobody wants; here, a long one.
    big_params, big_x, big_target = _problem("lstm", "last", 8, seq_len=3000, hidden=64)
    helper._send(("gradients", 1, "lstm", big_params, big_x, big_target, {}))
    params, x, target = _problem("rnn", "last", 4)
    started = time.perf_counter()
    result = helper.gradients("rnn", params, x, target)
    took = time.perf_counter() - started
    _assert_same(gradients("rnn", params, x, target), result)
    assert helper._pending == 1, f"the pass waited for the stale answer ({took:.2f} s)"
    # Once that answer came, it is dropped and the helper takes halves again.
    _wait_until_free(helper, "the stale answer never came", timeout_s=60)
    _assert_same(gradients("rnn", params, x, target), helper.gradients("rnn", params, x, target))
    assert helper._pending == 0 and not helper.lost


def _cancellable_helper():  # type: ignore[no-untyped-def]
    """A helper as the window starts it: with a cancel signal and a shared cancel integer."""
    import multiprocessing

    from gradlab.core import parallel

    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    cancelled = context.RawValue("q", 0)
    process = context.Process(target=parallel.serve, args=(child, signal.SIGUSR1, cancelled), daemon=True)
    process.start()
    child.close()
    return conn, process, cancelled


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="cancellation by signal is POSIX only")
def test_a_cancelled_helper_pass_is_answered_at_once_and_the_helper_goes_on():
    conn, process, cancelled = _cancellable_helper()
    try:
        assert conn.poll(30) and conn.recv() == ("hello", process.pid, signal.SIGUSR1)
        big_params, big_x, big_target = _problem("lstm", "last", 8, seq_len=20_000, hidden=64)
        conn.send(("gradients", 1, "lstm", big_params, big_x, big_target, {}))
        time.sleep(0.3)  # well inside the long pass
        sent = time.perf_counter()
        cancelled.value = 1
        os.kill(process.pid, signal.SIGUSR1)  # type: ignore[arg-type]
        assert conn.poll(5), "the cancelled pass was not answered"
        assert conn.recv() == ("cancelled",)
        print(f"\ncancelled pass answered {1e3 * (time.perf_counter() - sent):.1f} ms after the signal")
        # A pass cancelled before it begins (the signal came before the request was read) is not begun.
        cancelled.value = 2
        os.kill(process.pid, signal.SIGUSR1)  # type: ignore[arg-type]
        conn.send(("gradients", 2, "lstm", big_params, big_x, big_target, {}))
        assert conn.poll(5) and conn.recv() == ("cancelled",)
        # A later request is answered.
        params, x, target = _problem("gru", "last", 3)
        conn.send(("gradients", 3, "gru", params, x, target, {}))
        assert conn.poll(30)
        answer = conn.recv()
        assert answer[0] == "ok"
        assert answer[1] == pytest.approx(gradients("gru", params, x, target).loss, rel=1e-14)
    finally:
        conn.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)


def test_run_with_a_helper_gives_the_frames_of_a_run_without(helper):
    config = Config(cell="lstm", hidden_size=32, seq_len=300, batch_size=16, iterations=4, seed=3)
    assert worth_splitting(config)
    alone = list(run(config))
    shared = list(run(config, helper=helper))
    assert [f.iteration for f in shared] == [f.iteration for f in alone]
    for a, b in zip(alone, shared):
        assert b.loss == pytest.approx(a.loss, rel=1e-10)
        assert b.grad_norm == pytest.approx(a.grad_norm, rel=1e-10)
        np.testing.assert_allclose(b.log10_dh_norm, a.log10_dh_norm, rtol=0, atol=1e-10)
        np.testing.assert_allclose(b.log10_dc_norm, a.log10_dc_norm, rtol=0, atol=1e-10)  # type: ignore[arg-type]
        np.testing.assert_allclose(b.eigenvalues, a.eigenvalues, rtol=1e-8, atol=1e-12)


class _RecordingConnection:
    """The helper's end of the pipe, recording the kind of every answer read from it."""

    def __init__(self, conn) -> None:  # type: ignore[no-untyped-def]
        self._conn = conn
        self.answers: list[str] = []

    def recv(self):  # type: ignore[no-untyped-def]
        reply = self._conn.recv()
        self.answers.append(reply[0])
        return reply

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self._conn, name)


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="cancellation by signal is POSIX only")
@pytest.mark.parametrize("begun", [True, False])
def test_cancel_drops_the_helpers_pass_and_the_next_pass_is_split_again(begun):
    conn, process, cancelled = _cancellable_helper()
    helper = BatchHelper(conn, process, cancelled=cancelled)
    try:
        _wait_until_free(helper, "the batch helper did not start")
        helper._conn = recording = _RecordingConnection(conn)
        # A pass of many seconds, as an interrupted pass leaves it.
        big_params, big_x, big_target = _problem("lstm", "last", 8, seq_len=20_000, hidden=64)
        helper._send(("gradients", 1, "lstm", big_params, big_x, big_target, {}))
        if begun:
            time.sleep(0.3)
        helper.cancel()  # begun or not: the helper drops it
        # ready() waits a few ms for the cancelled answer (more on a loaded machine): poll it.
        _wait_until_free(helper, "the cancelled pass was not answered")
        assert recording.answers == ["cancelled"], "the helper computed the pass instead of dropping it"
        # The next pass is split again.
        params, x, target = _problem("lstm", "last", 4)
        _assert_same(gradients("lstm", params, x, target), helper.gradients("lstm", params, x, target))
        assert recording.answers == ["cancelled", "ok"] and process.is_alive()
    finally:
        helper.close()


def test_cancel_leaves_a_helper_without_a_cancel_signal_alone(helper):
    big_params, big_x, big_target = _problem("lstm", "last", 8, seq_len=2000, hidden=64)
    helper._send(("gradients", 1, "lstm", big_params, big_x, big_target, {}))
    helper.cancel()  # started by BatchHelper.start(): no signal, so nothing is sent
    assert helper._process.is_alive() and not helper.lost  # type: ignore[union-attr]
