"""Clipping with torch's semantics, and an overflow-safe total."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import clip_grad_norm, clip_grad_value


def grads(*values):
    return {f"g{i}": np.array(v, dtype=float) for i, v in enumerate(values)}


def test_below_threshold_is_unchanged_but_new():
    g = grads([0.3, 0.4])
    clipped, total = clip_grad_norm(g, 1.0)
    assert total == pytest.approx(0.5)
    np.testing.assert_array_equal(clipped["g0"], [0.3, 0.4])
    assert clipped["g0"] is not g["g0"]


def test_above_threshold_scales_everything_by_torchs_coefficient():
    g = grads([3.0], [[4.0]])
    clipped, total = clip_grad_norm(g, 1.0)
    coef = 1.0 / (5.0 + 1e-6)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(clipped["g0"], [3.0 * coef])
    np.testing.assert_allclose(clipped["g1"], [[4.0 * coef]])
    np.testing.assert_array_equal(g["g0"], [3.0])  # input untouched


def test_inf_entry_gives_coefficient_zero():
    clipped, total = clip_grad_norm(grads([1.0, np.inf], [2.0]), 1.0)
    assert total == np.inf
    assert clipped["g0"][0] == 0.0 and np.isnan(clipped["g0"][1])
    assert clipped["g1"][0] == 0.0


def test_nan_entry_stays_nan():
    clipped, total = clip_grad_norm(grads([1.0, np.nan], [2.0]), 1.0)
    assert np.isnan(total)
    assert np.isnan(clipped["g0"]).all() and np.isnan(clipped["g1"]).all()


def test_float32_total_does_not_overflow():
    g = {"w": np.full(4, 1e30, dtype=np.float32)}
    clipped, total = clip_grad_norm(g, 1.0)
    assert total == pytest.approx(2e30, rel=1e-6)
    assert clipped["w"].dtype == np.float32
    np.testing.assert_allclose(clipped["w"], 0.5, rtol=1e-5)


def test_clip_by_value():
    g = grads([-3.0, 0.5, 2.0, np.inf, -np.inf, np.nan])
    clipped = clip_grad_value(g, 1.0)
    np.testing.assert_array_equal(clipped["g0"][:5], [-1.0, 0.5, 1.0, 1.0, -1.0])
    assert np.isnan(clipped["g0"][5])
    assert g["g0"][0] == -3.0


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_bad_thresholds(bad):
    with pytest.raises(ValueError):
        clip_grad_norm(grads([1.0]), bad)
    with pytest.raises(ValueError):
        clip_grad_value(grads([1.0]), bad)
