"""Phase maps: exact in the linear case, the tanh zero crossing on the mean-field line, cancel,
cache, bad axes."""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from gradlab.core import Config, run
from gradlab.core.config import INITS
from gradlab.core.experiment import initial_params
from gradlab.core.phase_map import PhaseMap, compute_phase_map
from gradlab.core.phase_point import PhaseMapError, PhaseMapSpec, _point_params, make_axis, measure_point, parse_axis
from gradlab.core.phase_pool import make_pool, stop_pool
from gradlab.core.workspace import Workspace


def _threads() -> ThreadPoolExecutor:
    # The numbers do not depend on the executor; threads keep most tests free of process start-up.
    return ThreadPoolExecutor(max_workers=2)


def test_linear_orthogonal_map_is_log10_s_at_every_point() -> None:
    base = Config(activation="linear", init="orthogonal", seq_len=60, batch_size=4)
    spec = PhaseMapSpec(base, make_axis("w_rec_scale", 0.5, 1.5, 5), make_axis("hidden_size", 4, 32, 3), seeds=2)
    with _threads() as pool:
        result = compute_phase_map(spec, executor=pool, cache_dir=None)
    assert result is not None
    expected = np.broadcast_to(np.log10(result.x), result.slope.shape)
    # ‖∂L/∂h_{t-1}‖ = s·‖∂L/∂h_t‖ exactly (Q orthogonal): the fitted slope is log10 s up to rounding.
    np.testing.assert_allclose(result.slope, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.predicted_slope, expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(result.total_log10_ratio, expected * (base.seq_len - 1), rtol=0, atol=1e-9)


def _independent_critical_sigma_w(sigma_b: float) -> float:
    """The tanh edge of chaos by plain iteration of the variance map (Gauss–Hermite in the
    physicists' form, 80 nodes) and bisection in σ_w: no code shared with gradlab.core.mean_field."""
    nodes, weights = np.polynomial.hermite.hermgauss(80)
    z, w = nodes * math.sqrt(2), weights / math.sqrt(math.pi)

    def chi1(sigma_w: float) -> float:
        q = 1.0
        for _ in range(2000):
            q = sigma_w**2 * w @ np.tanh(np.sqrt(q) * z) ** 2 + sigma_b**2
        return sigma_w**2 * float(w @ (1 - np.tanh(np.sqrt(q) * z) ** 2) ** 2)

    low, high = 0.5, 3.0
    for _ in range(30):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if chi1(middle) < 1 else (low, middle)
    return 0.5 * (low + high)


def _zero_crossing(x: np.ndarray, values: np.ndarray) -> float:
    sign_change = np.nonzero(np.diff(np.sign(values)) > 0)[0]
    assert len(sign_change) == 1, values
    i = sign_change[0]
    return float(x[i] - values[i] * (x[i + 1] - x[i]) / (values[i + 1] - values[i]))


def test_tanh_zero_crossing_is_on_the_mean_field_critical_line() -> None:
    # Long sequences: the fit is then dominated by the steps where the variance has settled.
    base = Config(activation="tanh", init="orthogonal", seq_len=200, batch_size=16)
    spec = PhaseMapSpec(base, make_axis("w_rec_scale", 1.0, 1.5, 11), make_axis("hidden_size", 64, 256, 3), seeds=4)
    result = compute_phase_map(spec, workers=2, cache_dir=None)
    assert result is not None
    for j, hidden in enumerate(spec.y.values):
        # A probe RNN's pre-activation gets, besides W_hh h, biases b_ih + b_hh (variance 1/(3H)
        # each) and 4 N(0, 1) inputs through W_ih (1/(3H) each): σ_b² = 6/(3H).
        expected = _independent_critical_sigma_w(math.sqrt(6 / (3 * hidden)))
        assert _zero_crossing(result.x, result.slope[j]) == pytest.approx(expected, abs=0.03)
        assert _zero_crossing(result.x, result.predicted_slope[j]) == pytest.approx(expected, abs=0.01)


def test_cancel_mid_map_returns_none_and_leaves_no_process() -> None:
    spec = PhaseMapSpec(Config(seq_len=50), make_axis("w_rec_scale", 0.5, 1.5, 8), make_axis("hidden_size", 8, 64, 40))
    cancel = threading.Event()
    rows = []

    def on_row(row) -> None:  # type: ignore[no-untyped-def]
        rows.append(row.index)
        cancel.set()

    result = compute_phase_map(spec, workers=2, cancel=cancel, on_row=on_row, cache_dir=None)
    assert result is None
    assert 1 <= len(rows) < len(spec.y)
    assert multiprocessing.active_children() == []


def test_cache_returns_identical_arrays(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = PhaseMapSpec(
        Config(seq_len=30, hidden_size=16), parse_axis("w_rec_scale=0.5:2:4"), parse_axis("seq_len=10:30:3")
    )
    with _threads() as pool:
        first = compute_phase_map(spec, executor=pool, cache_dir=tmp_path)
    assert first is not None and not first.from_cache
    rows: list[int] = []
    progress: list[tuple[int, int]] = []
    second = compute_phase_map(
        spec,
        executor=None,
        cache_dir=tmp_path,
        on_row=lambda r: rows.append(r.index),
        progress=lambda *p: progress.append(p),
    )
    assert second is not None and second.from_cache
    assert sorted(rows) == [0, 1, 2] and progress[-1] == (12, 12)
    for name in ("slope", "predicted_slope", "total_log10_ratio"):
        assert np.array_equal(getattr(first, name), getattr(second, name), equal_nan=True)
    assert second.spec == spec
    # Any change of what the map depends on is another entry.
    other = PhaseMapSpec(spec.base.replace(activation="relu"), spec.x, spec.y)
    assert other.key() != spec.key()


def test_npz_and_csv_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = PhaseMapSpec(Config(seq_len=20, hidden_size=8), parse_axis("w_rec_scale=0.5:1.5:3"), parse_axis("lr=0.01"))
    with _threads() as pool:
        result = compute_phase_map(spec, executor=pool, cache_dir=None)
    assert result is not None and result.slope.shape == (1, 3)
    loaded = PhaseMap.load_npz(result.save_npz(tmp_path / "map.npz"))
    assert loaded.spec == spec
    assert np.array_equal(loaded.slope, result.slope)
    lines = result.save_csv(tmp_path / "map.csv").read_text().splitlines()
    assert lines[0] == "w_rec_scale,lr,slope,predicted_slope,total_log10_ratio"
    assert len(lines) == 4
    assert float(lines[2].split(",")[2]) == result.slope[0, 1]


def test_trainability_map_reports_loss_relative_to_baseline() -> None:
    base = Config(seq_len=10, hidden_size=8, batch_size=4)
    spec = PhaseMapSpec(base, parse_axis("w_rec_scale=0.5:1:2"), parse_axis("lr=0.01:0.1:2"), trainability=3)
    with _threads() as pool:
        result = compute_phase_map(spec, executor=pool, cache_dir=None)
    assert result is not None and result.loss_ratio is not None
    assert result.loss_ratio.shape == (2, 2) and np.all(result.loss_ratio > 0)


def test_integer_axes_round_and_drop_repeats() -> None:
    axis = make_axis("hidden_size", 8, 10, 5)
    assert axis.values == (8, 9, 10)
    assert all(isinstance(v, int) for v in axis.values)
    assert parse_axis("seq-len=5:5:3").values == (5,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense=1:2:3", "not a field"),
        ("activation=1:2:3", "is a choice"),
        ("w_rec_scale=0.5:1.5:0", ">= 1"),
        ("w_rec_scale=0.5:1.5:2.5", "integer"),
        ("w_rec_scale=0:1.5:3", "outside the field's range"),
        ("hidden_size=1:5000:3", "outside the field's range"),
        ("w_rec_scale", "FIELD=START:STOP:N"),
        ("w_rec_scale=a:b:3", "numbers"),
        ("w_rec_scale=nan:1:3", "finite"),
    ],
)
def test_bad_axes_are_refused(text: str, message: str) -> None:
    with pytest.raises(PhaseMapError, match=message):
        parse_axis(text)


def test_bad_specs_are_refused() -> None:
    axis = parse_axis("w_rec_scale=0.5:1.5:3")
    with pytest.raises(PhaseMapError, match="two different fields"):
        PhaseMapSpec(Config(), axis, axis)
    with pytest.raises(PhaseMapError, match="GiB"):
        PhaseMapSpec(Config(batch_size=1024), axis, parse_axis("seq_len=100:10000:3"))
    with pytest.raises(PhaseMapError, match="seeds"):
        PhaseMapSpec(Config(), axis, parse_axis("lr=0.1"), seeds=0)


def test_rows_assembled_from_parts_hold_each_point_where_it_belongs() -> None:

    base = Config(seq_len=15, hidden_size=6, batch_size=2)
    spec = PhaseMapSpec(base, make_axis("w_rec_scale", 0.5, 2.0, 17), make_axis("seq_len", 5, 15, 3))
    with _threads() as pool:  # two workers: the first row is computed in two parts
        result = compute_phase_map(spec, executor=pool, cache_dir=None)
    assert result is not None
    for j, y_value in enumerate(spec.y.values):
        for i, x_value in enumerate(spec.x.values):
            point = measure_point(spec.point_config(x_value, y_value))
            assert result.slope[j, i] == point.slope
            assert result.predicted_slope[j, i] == point.predicted_slope


@pytest.mark.parametrize("forget_bias_init", ["one", "zero", "chrono"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_point_measures_the_network_the_run_starts_from(cell: str, forget_bias_init: str) -> None:
    config = Config(cell=cell, hidden_size=16, seq_len=30, batch_size=4, forget_bias_init=forget_bias_init)
    first = next(run(config))
    assert measure_point(config).slope == pytest.approx(first.fitted_slope, rel=1e-12)


@pytest.mark.parametrize("init", INITS)
def test_a_deep_net_point_uses_the_weights_the_run_starts_from_bit_for_bit(init: str) -> None:
    # The layers are drawn once per seed and rescaled into a workspace that the next point reuses:
    # a wrong key, a rounding or a leftover of the point before would show here.
    workspace = Workspace()
    for dtype, scale, bias_scale, lr in (
        ("float64", 0.7, None, 0.01),
        ("float64", 1.3, None, 0.01),
        ("float32", 1.9, 0.3, 0.5),
    ):
        config = Config.from_dict(
            {"cell": "mlp", "hidden_size": 8, "seq_len": 6, "init": init, "w_rec_scale": scale, "dtype": dtype}
        ).replace(bias_scale=bias_scale, lr=lr)
        expected = initial_params(config)
        got = _point_params(config, workspace)
        assert got.keys() == expected.keys()
        for name in expected:
            assert got[name].dtype == expected[name].dtype
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
        np.testing.assert_equal(measure_point(config).slope, next(run(config)).fitted_slope)


@pytest.mark.parametrize(
    ("activation", "init"), [("tanh", "gaussian"), ("tanh", "orthogonal"), ("relu", "he"), ("sigmoid", "xavier")]
)
def test_a_plain_deep_net_follows_the_mean_field_slope(activation: str, init: str) -> None:
    # Poole et al. 2016's setting itself: χ₁ per layer at the fixed point q*, untied layers.
    for scale in (0.8, 1.3, 2.0):
        config = Config.from_dict({"cell": "mlp", "hidden_size": 256, "seq_len": 40, "batch_size": 64}).replace(
            activation=activation, init=init, w_rec_scale=scale
        )
        point = measure_point(config, seeds=2)
        assert point.slope == pytest.approx(point.predicted_slope, abs=0.015), scale


def test_no_mean_field_line_where_its_assumptions_fail() -> None:
    deep = Config.from_dict({"cell": "mlp", "hidden_size": 16, "seq_len": 8})
    for config in (deep.replace(residual=1.0), deep.replace(norm="batch"), deep.replace(init="zero")):
        assert math.isnan(measure_point(config).predicted_slope)


def _start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), None if it is gone or a zombie: a
    pid can be reused on a busy machine, the pair (pid, start time) cannot."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc")
def test_pool_processes_end_when_their_parent_is_killed() -> None:
    script = (
        "from gradlab.core.phase_pool import make_pool\n"
        "import time\n"
        "pool = make_pool(2)\n"
        "list(pool.map(abs, range(4)))\n"
        "print(' '.join(str(p) for p in pool._processes), flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        workers = [int(p) for p in parent.stdout.readline().split()]
        started = {pid: _start_time(pid) for pid in workers}
        assert len(workers) == 2 and all(started.values())
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        parent.stdout.close()

    def left() -> list[int]:
        return [pid for pid in workers if _start_time(pid) == started[pid]]

    deadline = time.monotonic() + 60
    while left() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left()


def test_stopping_a_pool_does_not_wait_for_a_running_task() -> None:
    pool = make_pool(1)
    started = pool.submit(os.getpid).result()  # the process is up
    running = pool.submit(time.sleep, 3600)  # a task that would hold a waiting shutdown for an hour
    time.sleep(0.2)
    stop_pool(pool)
    assert running.done()
    with pytest.raises(ProcessLookupError):
        os.kill(started, 0)  # the process has ended (and was reaped)
