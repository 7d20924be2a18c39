"""The "Not only RNNs" scenes (depth mode) show what their captions say: each number measured on a
real run of the scene's own Config (the first update unless the caption says otherwise)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradlab.core import gradients, run
from gradlab.core.experiment import initial_params
from gradlab.core.optim import make_optimizer
from gradlab.core.tasks import make_points
from gradlab.presets import presets

DEPTH_SCENES = (
    "40-depth-std-001",
    "41-depth-xavier-tanh",
    "42-depth-xavier-relu",
    "43-depth-he-relu",
    "44-depth-zero-init",
    "45-depth-sigmoid",
    "46-depth-residual-1",
    "47-depth-residual-sqrt",
    "48-depth-batchnorm",
    "49-depth-large-lr",
)


def config_of(name: str):  # type: ignore[no-untyped-def]
    return next(p for p in presets() if p.name == name).scenario.config


def first(name: str):  # type: ignore[no-untyped-def]
    return next(run(config_of(name).replace(iterations=1)))


def total(frame) -> float:  # type: ignore[no-untyped-def]
    """log10 ‖∂L/∂h_1‖ − log10 ‖∂L/∂h_L‖: decades gained (lost) over the whole depth."""
    return float(frame.log10_dh_norm[-1] - frame.log10_dh_norm[0])


def test_the_depth_scenes_are_a_group_of_ten_in_order():
    names = [p.name for p in presets()]
    assert [n for n in names if n.startswith("4")] == list(DEPTH_SCENES)
    for name in DEPTH_SCENES:
        config = config_of(name)
        assert config.cell == "mlp" and config.task == "spirals"


def test_std_001_kills_the_signal():
    frame = first("40-depth-std-001")
    assert 0.01 * math.sqrt(256) == pytest.approx(0.16)
    assert frame.fitted_slope == pytest.approx(-0.80, abs=0.01)
    assert frame.predicted_slope == pytest.approx(frame.fitted_slope, abs=0.01)
    assert total(frame) == pytest.approx(-7.0, abs=0.3)  # "10⁻⁷"
    frames = list(run(config_of("40-depth-std-001").replace(iterations=20)))
    assert all(f.loss == pytest.approx(1.0, abs=0.01) for f in frames)


def test_xavier_fixes_tanh():
    frame = first("41-depth-xavier-tanh")
    assert frame.fitted_slope == pytest.approx(-0.005, abs=0.003)
    assert total(frame) == pytest.approx(-0.2, abs=0.05)
    assert frame.predicted_slope == pytest.approx(frame.fitted_slope, abs=0.005)


def test_xavier_halves_relus_gradient_every_two_layers():
    frame = first("42-depth-xavier-relu")
    assert 0.5 * np.log10(0.5) == pytest.approx(-0.15, abs=0.001)
    assert frame.fitted_slope == pytest.approx(-0.15, abs=0.006)
    assert 2 * frame.fitted_slope == pytest.approx(np.log10(0.5), abs=0.012)  # halves every two layers
    assert total(frame) == pytest.approx(-7.1, abs=0.1)


def test_hes_factor_2_fixes_relu():
    frame = first("43-depth-he-relu")
    assert frame.fitted_slope == pytest.approx(0.0, abs=0.005)
    assert frame.predicted_slope == pytest.approx(0.0, abs=0.005)


def test_zero_init_is_one_neuron():
    """The scene's own training loop (as run() does it), looking at every unit after 200 updates."""
    config = config_of("44-depth-zero-init")
    frame = first("44-depth-zero-init")
    assert (frame.log10_dh_norm == -np.inf).all()  # exact zeros at the first update
    assert frame.predicted_kind == ""  # no mean-field line: the weights do not mix
    params = initial_params(config)
    optimizer = make_optimizer(config.optimizer, config.lr, config.weight_decay)
    data_rng = np.random.default_rng([config.seed, 1])
    for _ in range(200):
        x, target = make_points(config.task, data_rng, config.batch_size, config.dtype)
        result = gradients("mlp", params, x, target, activation=config.activation)
        optimizer.step(params, result.grads)
    assert config.hidden_size == 256
    assert np.ptp(result.hidden, axis=2).max() == 0.0  # every unit of every layer equal, for every example
    assert np.ptp(params["W_hh"], axis=(1, 2)).max() == 0.0
    assert np.abs(params["W_hh"]).max() > 0  # the weights did change: together
    assert result.loss == pytest.approx(1.0, abs=0.02)


def test_sigmoids_quarter_per_layer():
    frame = first("45-depth-sigmoid")
    assert np.log10(0.25) == pytest.approx(-0.60, abs=0.005)
    assert frame.fitted_slope == pytest.approx(-0.63, abs=0.01)
    assert frame.fitted_slope < np.log10(0.25)
    assert total(frame) == pytest.approx(-31, abs=0.5)
    assert frame.predicted_slope == pytest.approx(frame.fitted_slope, abs=0.01)


def test_residual_alpha_1_explodes():
    frames = list(run(config_of("46-depth-residual-1").replace(iterations=3)))
    frame = frames[0]
    assert frame.fitted_slope == pytest.approx(0.5 * np.log10(2), abs=0.005)  # +0.15
    assert total(frame) == pytest.approx(7.3, abs=0.15)
    assert frame.predicted_kind == "mean field 1 + α²·χ (residual)"
    assert frame.predicted_slope == pytest.approx(frame.fitted_slope, abs=0.005)
    assert len(frames) == 2 and frames[1].nonfinite.weights == "nan" and frames[1].final


def test_residual_alpha_over_sqrt_depth_does_not():
    config = config_of("47-depth-residual-sqrt")
    assert config.residual == pytest.approx(1 / math.sqrt(config.seq_len), abs=1e-4)
    assert (1 + 1 / config.seq_len) ** config.seq_len == pytest.approx(math.e, rel=0.01)
    frames = list(run(config.replace(iterations=10)))
    frame = frames[0]
    assert total(frame) == pytest.approx(0.5 * np.log10(math.e), abs=0.03)  # 0.217
    assert frame.fitted_slope == pytest.approx(0.004, abs=0.001)
    assert not any(f.nonfinite for f in frames)  # and training runs


def test_batchnorm_without_skips_explodes_at_init():
    frame = first("48-depth-batchnorm")
    yang = 0.5 * np.log10(math.pi / (math.pi - 1))
    assert yang == pytest.approx(0.08, abs=0.005)
    assert frame.fitted_slope == pytest.approx(0.09, abs=0.01)
    assert frame.fitted_slope > yang > 0
    assert total(frame) == pytest.approx(4.9, abs=0.3)


def test_a_large_learning_rate_ends_in_nan():
    frames = list(run(config_of("49-depth-large-lr").replace(iterations=6)))
    assert [f.iteration for f in frames] == [1, 2, 3, 4]
    assert frames[0].loss == pytest.approx(1.03, abs=0.005)
    assert 1e3 < frames[1].loss < 1e4  # 3·10³
    assert 1e229 < frames[2].loss < 1e230
    assert frames[3].nonfinite.weights == "nan" and frames[3].final


def test_a_small_learning_rate_with_l2_stays_finite():
    config = config_of("49-depth-large-lr").replace(lr=0.001, weight_decay=1e-3, iterations=10)
    assert not any(f.nonfinite for f in run(config))


@pytest.mark.slow
def test_a_small_learning_rate_with_l2_learns():
    config = config_of("49-depth-large-lr").replace(lr=0.001, weight_decay=1e-3, iterations=150)
    frames = list(run(config))
    assert len(frames) == 150 and not any(f.nonfinite for f in frames)
    assert np.mean([f.loss for f in frames[-30:]]) < 0.8


def test_he_et_al_thirty_layers_xavier_loses_what_he_keeps():
    frame = first("50-depth-he-30-layers")
    assert frame.fitted_slope == pytest.approx(-0.16, abs=0.005)
    assert total(frame) == pytest.approx(-4.5, abs=0.05)
    he = next(run(config_of("50-depth-he-30-layers").replace(init="he", iterations=1)))
    assert abs(he.fitted_slope) < 0.02


@pytest.mark.slow
def test_he_et_al_thirty_layers_xavier_stalls_where_he_trains():
    config = config_of("50-depth-he-30-layers").replace(iterations=800)
    xavier = [f.loss for f in run(config)]
    he = [f.loss for f in run(config.replace(init="he"))]
    assert len(xavier) == len(he) == 800
    assert np.mean(xavier[-100:]) == pytest.approx(1.00, abs=0.005)  # the baseline
    assert np.mean(he[400:500]) < 0.1
