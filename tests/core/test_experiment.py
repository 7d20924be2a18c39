"""The experiment generator: frames that own their data, explosions reported not raised, training works."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gradlab.core import Config, HistogramEdges, run


def frames(config: Config) -> list:
    return list(run(config))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_frames_are_complete_and_immutable(cell):
    config = Config(cell=cell, seq_len=12, hidden_size=8, iterations=3)
    result = frames(config)
    assert [f.iteration for f in result] == [1, 2, 3]
    assert result[-1].final and not result[0].final
    for frame in result:
        assert frame.log10_dh_norm.shape == (12,)
        assert np.isfinite(frame.log10_dh_norm).all()
        assert (frame.log10_dc_norm is not None) == (cell == "lstm")
        assert frame.eigenvalues.shape == (8,)
        assert (
            frame.w_hh_hist.counts.sum() + frame.w_hh_hist.outside
            == (4 if cell == "lstm" else 3 if cell == "gru" else 1) * 64
        )
        assert len(frame.w_hh_hist.edges) == len(frame.w_hh_hist.counts) + 1
        assert not frame.nonfinite
        with pytest.raises(ValueError):
            frame.log10_dh_norm[0] = 0.0
        with pytest.raises(AttributeError):
            frame.loss = 0.0  # type: ignore[misc]
    # each frame owns its arrays
    assert not np.shares_memory(result[0].log10_dh_norm, result[1].log10_dh_norm)
    assert not np.shares_memory(result[0].w_hh_hist.edges, result[1].w_hh_hist.edges)


def test_same_seed_same_numbers():
    config = Config(seq_len=20, hidden_size=8, iterations=4, seed=5)
    a, b = frames(config), frames(config)
    assert [f.loss for f in a] == [f.loss for f in b]
    assert [f.loss for f in frames(config.replace(seed=6))] != [f.loss for f in a]


def test_orthogonal_init_spectrum_and_theory_slope():
    frame = next(run(Config(w_rec_scale=0.5, init="orthogonal", hidden_size=16, seq_len=30)))
    assert frame.spectral_radius == pytest.approx(0.5)
    assert frame.sigma_max == pytest.approx(0.5)
    assert frame.theory_slope == pytest.approx(np.log10(0.5))
    assert frame.fitted_slope <= frame.theory_slope + 1e-9
    np.testing.assert_allclose(np.abs(frame.eigenvalues), 0.5)


def test_float32_exploding_run_is_flagged_and_raises_nothing():
    config = Config(activation="linear", w_rec_scale=1.5, seq_len=200, dtype="float32", iterations=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = frames(config)
    assert result[-1].final
    assert result[-1].nonfinite.weights in ("inf", "nan")
    assert "Diverged" in result[-1].message
    assert any(f.nonfinite.gradients for f in result)
    assert np.isnan(result[-1].spectral_radius) or np.isfinite(result[-1].spectral_radius)


def test_exploding_float64_dh_is_exact_not_inf():
    frame = next(run(Config(activation="linear", w_rec_scale=1.5, seq_len=100, init="orthogonal", hidden_size=16)))
    assert np.isfinite(frame.log10_dh_norm).all()
    assert frame.fitted_slope == pytest.approx(np.log10(1.5), abs=0.02)


def test_clipping_by_norm_is_reported():
    config = Config(activation="linear", w_rec_scale=1.2, seq_len=40, clip="norm", clip_threshold=1.0, iterations=5)
    for frame in run(config):
        assert frame.clipped == (frame.grad_norm > 1.0)
        assert frame.grad_norm_clipped <= 1.0 + 1e-9


def test_clipping_by_value_bounds_the_update():
    config = Config(seq_len=20, hidden_size=8, clip="value", clip_threshold=1e-4, iterations=2)
    first = next(run(config))
    assert first.clipped
    assert first.grad_norm_clipped <= 1e-4 * np.sqrt(8 * 4 + 8 * 8 + 8 + 8 + 8 + 1) + 1e-12


def test_truncation_zeros_the_far_gradient():
    frame = next(run(Config(seq_len=30, hidden_size=8, truncation=10)))
    assert np.isfinite(frame.log10_dh_norm[:10]).all()
    assert (frame.log10_dh_norm[10:] == -np.inf).all()


def test_frozen_histogram_edges_hold_still():
    edges = HistogramEdges(bins=20)
    generator = run(Config(seq_len=10, hidden_size=8, lr=0.5), histogram_edges=edges)
    first = next(generator)
    edges.freeze()
    frozen = [next(generator).w_hh_hist.edges for _ in range(3)]
    for e in frozen:
        np.testing.assert_array_equal(e, frozen[0])
    edges.unfreeze()
    assert len(first.w_hh_hist.counts) == 20


def test_lstm_learns_the_adding_problem_where_the_rnn_does_not():
    """The classic result, short: T=20, 600 Adam updates (the README has the T=100 version)."""
    base = Config(
        task="adding",
        seq_len=20,
        hidden_size=32,
        optimizer="adam",
        lr=0.02,
        clip="norm",
        init="gaussian",
        w_rec_scale=1.0,
        iterations=600,
        seed=1,
    )

    def final_loss(config: Config) -> float:
        losses = [f.loss for f in run(config)]
        return float(np.mean(losses[-100:]))

    baseline = 1 / 6
    assert final_loss(base.replace(cell="lstm")) < 0.1 * baseline
    assert final_loss(base.replace(cell="rnn")) > 0.7 * baseline


def test_run_refuses_a_non_config():
    with pytest.raises(TypeError):
        next(run({"cell": "rnn"}))  # type: ignore[arg-type]
