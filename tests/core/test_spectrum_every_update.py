"""σ_max and the Pascanu bound are from the weights of the update they are shown with, in every
frame, and the same Config gives the same frames bit for bit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from gradlab.core import Config, run
from gradlab.core.inits import init_params
from gradlab.core.theory import EXACT_SPECTRUM_MAX_H, SigmaMaxTracker, spectrum_every

# The bound is a per-step statement: with the loss at the last step only,
# ∂L/∂h_{t-1} = (∂L/∂h_t ⊙ φ'(a_t)) W_hh, so ‖∂L/∂h_{t-1}‖_F ≤ γ·σ_max(W_hh)·‖∂L/∂h_t‖_F for every
# sequence of the batch and so for the batch's norm. Every increment of log10 ‖∂L/∂h‖ from one
# step back to the next is at most log10(γ·σ_max) -- and the least-squares slope, a weighted
# average of those increments with positive weights, is too. The tolerance only covers rounding
# and the tracker's error on σ_max at larger H (< 1e-7 relative).
TOLERANCE = 1e-7


def assert_bound_holds(frame) -> None:
    y = np.asarray(frame.log10_dh_norm)
    finite = np.isfinite(y)
    steps = np.diff(y[finite]) if finite.all() else np.diff(y[: np.argmin(finite)])
    if steps.size:
        assert steps.max() <= frame.theory_slope + TOLERANCE, (frame.iteration, steps.max(), frame.theory_slope)
    if np.isfinite(frame.fitted_slope):
        assert frame.fitted_slope <= frame.theory_slope + TOLERANCE


@pytest.mark.parametrize("hidden_size", [16, 96])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "linear"])
def test_bound_holds_in_every_frame_through_training(activation, hidden_size):
    for init in ("gaussian", "orthogonal", "identity", "xavier", "he"):
        for scale in (0.5, 1.0, 2.0):
            config = Config(
                activation=activation,
                init=init,
                w_rec_scale=scale,
                hidden_size=hidden_size,
                seq_len=25,
                batch_size=4,
                optimizer="adam",
                lr=0.02,
                iterations=12,
                seed=3,
            )
            for frame in run(config):
                if frame.nonfinite.weights or not np.isfinite(frame.sigma_max):
                    break
                assert_bound_holds(frame)


def test_sigma_max_is_this_updates_not_an_earlier_one():
    # Adam at a large rate changes W_hh by a lot each update: a stale σ_max would show.
    config = Config(hidden_size=96, seq_len=8, batch_size=2, optimizer="adam", lr=0.05, iterations=6)
    first = init_params("rnn", 4, 96, 1, w_rec_scale=config.w_rec_scale, init=config.init, seed=config.seed)
    frames = list(run(config))
    assert frames[0].sigma_max == pytest.approx(np.linalg.norm(first["W_hh"], 2), rel=1e-9)
    assert len({round(f.sigma_max, 12) for f in frames}) == len(frames)


def test_two_runs_are_identical_bit_for_bit():
    for config in (
        Config(hidden_size=96, seq_len=10, batch_size=4, optimizer="adam", lr=0.01, iterations=40, seed=2),
        Config(cell="lstm", hidden_size=16, seq_len=10, batch_size=4, iterations=5, seed=2),
    ):
        a = [pickle.dumps(f) for f in run(config)]
        b = [pickle.dumps(f) for f in run(config)]
        assert a == b


def test_eigenvalues_lag_by_a_fixed_number_of_updates_and_say_from_which():
    config = Config(hidden_size=96, seq_len=10, batch_size=4, iterations=40)
    every = spectrum_every(96, 10, 4, 1)
    assert every > 1
    for frame in run(config):
        assert frame.spectrum_iteration == 1 + ((frame.iteration - 1) // every) * every
    assert spectrum_every(EXACT_SPECTRUM_MAX_H, 2, 1, 1) == 1


def test_sigma_tracker_follows_a_drifting_matrix_to_1e_6():
    rng = np.random.default_rng(0)
    tracker = SigmaMaxTracker(seed=0)
    matrix = rng.standard_normal((256, 256)) / 16
    for _ in range(30):
        matrix = matrix + 0.01 * rng.standard_normal((256, 256)) / 16
        assert tracker(matrix) == pytest.approx(np.linalg.norm(matrix, 2), rel=1e-6)
    assert tracker(np.full((256, 256), np.nan)) != tracker(np.full((256, 256), np.nan))  # nan
