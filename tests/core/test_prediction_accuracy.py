"""How close the vanilla RNN's predicted slope comes to the measured one, over activations × inits
× scales × H, at initialisation (every run of the suite) and after 300 Adam updates (``-m slow``).

The worst differences are printed (``pytest -s``) for the record. Measured with the line through
the actual W (mean field over φ′ only), decades per step, over the whole grid at H = 64 and 256:
at init 0.015 (H = 64, tanh, Gaussian, s = 1.5) and 0.009 (H = 256, tanh, Gaussian, s = 1).
After 300 Adam updates, the median predicted slope against the median measured one over updates
291-300: 0.010 at H = 64 (ReLU, Gaussian, s = 1.5: +0.017 vs +0.027) and 0.004 at H = 256 (ReLU,
Gaussian, s = 1.5: −0.035 vs −0.031); single updates, at update 300: 0.018 (H = 64, ReLU,
orthogonal, s = 2) and 0.008 (H = 256, tanh, Gaussian, s = 2), and 0.033 at update 301 of H = 64,
tanh, Xavier, s = 1.5.
Mean field alone (‖W‖_F²/H)·⟨φ′²⟩ missed by 0.074 at init (H = 64, ReLU, Xavier: the finite-H
edge of the bulk) and by 0.27 after training (learning's outlier eigenvalues); max(mean field,
ρ(diag⟨φ′⟩·W)) by 0.016 and 0.038 (tanh, s = 1.5: the two add, neither takes over).

Why the median after training: near the edge of chaos a batch's slope is that of its fastest
sequence. At H = 64, tanh, Xavier, s = 1.5, update 301, 15 of the 16 sequences fall at
−0.019 … −0.031 per step (the predicted line: −0.024), one rises at +0.015 and carries the batch's
norm to +0.009; over updates 271-301 the measured slope scatters from −0.026 to +0.023 while the
predicted one stays within −0.031 … −0.007. Which sequence runs away is in its own trajectory, not
in W or in the batch's statistics of φ′: a line of the typical gain follows the slope's median, not
one batch's draw. At H = 256 the scatter is small and single updates hold the target too.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gradlab.core import Config, run

ACTIVATIONS = ("tanh", "sigmoid", "relu")
INITS = ("gaussian", "orthogonal", "xavier")
SCALES = (0.5, 1.0, 1.5, 2.0)
AT_INIT_TOLERANCE = 0.03  # decades per step; measured worst 0.015 (H = 64), 0.009 (H = 256)
# After 300 Adam updates: the 0.03, against the median over the last 10 updates of the
# measured slope (one batch's slope near the edge of chaos is that of its fastest sequence and
# scatters by ±0.013 from update to update at H = 64; see the module docstring).
TRAINED_TOLERANCE = 0.03
TRAINED_UPDATES, LAST = 300, 10


def _config(activation: str, init: str, scale: float, hidden: int, iterations: int) -> Config:
    return Config(
        activation=activation,  # type: ignore[arg-type]
        init=init,  # type: ignore[arg-type]
        w_rec_scale=scale,
        hidden_size=hidden,
        seq_len=100,
        batch_size=16,
        task="adding",
        optimizer="adam",
        lr=1e-3,
        iterations=iterations,
        seed=2,
    )


def _worst(hidden: int, iterations: int) -> tuple[float, str]:
    worst, where = 0.0, ""
    for activation, init, scale in itertools.product(ACTIVATIONS, INITS, SCALES):
        *_, frame = run(_config(activation, init, scale, hidden, iterations))
        difference = abs(frame.predicted_slope - frame.fitted_slope)
        if difference > worst:
            worst = difference
            where = (
                f"{activation} {init} s={scale}: measured {frame.fitted_slope:+.3f},"
                f" predicted {frame.predicted_slope:+.3f} ({frame.predicted_kind})"
            )
    return worst, where


@pytest.mark.parametrize("hidden", [64, 256])
def test_predicted_slope_at_init(hidden):
    worst, where = _worst(hidden, 1)
    print(f"\nH={hidden} at init: worst |predicted - measured| = {worst:.3f} decades/step ({where})")
    assert worst < AT_INIT_TOLERANCE, where


def _worst_trained(hidden: int) -> tuple[float, str, float, str]:
    """Over the grid after ``TRAINED_UPDATES`` Adam updates: the worst |median predicted − median
    measured| slope over the last ``LAST`` updates, and the worst single-update difference."""
    worst, where, single, single_where = 0.0, "", 0.0, ""
    for activation, init, scale in itertools.product(ACTIVATIONS, INITS, SCALES):
        frames = list(run(_config(activation, init, scale, hidden, TRAINED_UPDATES)))[-LAST:]
        measured = float(np.median([f.fitted_slope for f in frames]))
        predicted = float(np.median([f.predicted_slope for f in frames]))
        name = f"{activation} {init} s={scale}"
        if abs(predicted - measured) >= worst:
            worst = abs(predicted - measured)
            where = f"{name}: median measured {measured:+.3f}, median predicted {predicted:+.3f}"
        last = frames[-1]
        if abs(last.predicted_slope - last.fitted_slope) >= single:
            single = abs(last.predicted_slope - last.fitted_slope)
            single_where = f"{name}: measured {last.fitted_slope:+.3f}, predicted {last.predicted_slope:+.3f}"
    return worst, where, single, single_where


@pytest.mark.slow
@pytest.mark.parametrize("hidden", [64, 256])
def test_predicted_slope_after_300_adam_updates(hidden):
    worst, where, single, single_where = _worst_trained(hidden)
    print(
        f"\nH={hidden} after {TRAINED_UPDATES} updates: worst |median predicted - median measured| over the"
        f" last {LAST} = {worst:.3f} decades/step ({where}); worst single update {single:.3f} ({single_where})"
    )
    assert worst < TRAINED_TOLERANCE, where
