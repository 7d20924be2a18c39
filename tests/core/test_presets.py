"""Every shipped scene loads, validates, runs, and shows what its caption promises."""

from __future__ import annotations

import numpy as np
import pytest

from gradlab.core import Config, run
from gradlab.presets import default_preset, presets

ABOUT_EXPLOSION = {"03-exploding-linear", "04-exploding-float32", "46-depth-residual-1"}


def test_there_are_at_least_ten_scenes_with_keys():
    scenes = presets()
    assert len(scenes) >= 10
    assert [p.key for p in scenes[:10]] == list("1234567890")
    # The second act (depth mode) after the first, its first ten on Shift+1 … Shift+0.
    acts = [p.act for p in scenes]
    assert acts == sorted(acts) and set(acts) == {0, 1}
    assert all((p.act == 1) == (p.scenario.config.cell == "mlp") for p in scenes)
    assert [p.key for p in scenes if p.act == 1][:10] == [f"Shift+{d}" for d in "1234567890"]
    assert len({p.scenario.title for p in scenes}) == len(scenes)
    assert default_preset().scenario.config == Config()


@pytest.mark.parametrize("preset", presets(), ids=lambda p: p.name)
def test_scene_runs(preset):
    config = preset.scenario.config.replace(iterations=3, seq_len=min(preset.scenario.config.seq_len, 200))
    frames = list(run(config))
    assert frames
    if preset.name in ABOUT_EXPLOSION:
        assert frames[-1].nonfinite and frames[-1].final
    else:
        assert all(not f.nonfinite for f in frames)
        assert all(np.isfinite(f.loss) for f in frames)


def test_the_captions_numbers():
    """The slopes the captions quote, measured."""
    by_name = {p.name: p.scenario.config for p in presets()}
    first = lambda name: next(run(by_name[name]))  # noqa: E731
    assert first("01-vanishing-tanh").fitted_slope == pytest.approx(-0.3, abs=0.05)
    assert first("02-vanishing-sigmoid").fitted_slope == pytest.approx(-0.9, abs=0.05)
    assert first("03-exploding-linear").fitted_slope == pytest.approx(np.log10(1.5), abs=1e-6)
    condition = first("05-condition")
    assert condition.sigma_max > 1 > condition.spectral_radius
    assert condition.fitted_slope == pytest.approx(np.log10(condition.spectral_radius), abs=0.02)
    assert first("07-lstm").fitted_slope == pytest.approx(-0.07, abs=0.02)
    assert abs(first("09-irnn").fitted_slope) < 0.01
    truncated = first("10-truncated-bptt").log10_dh_norm
    assert np.isfinite(truncated[:25]).all() and (truncated[25:] == -np.inf).all()


def test_clipping_rescues_what_explodes_without_it():
    config = next(p for p in presets() if p.name == "06-clipping-rescues").scenario.config
    unclipped = list(run(config.replace(clip="none", iterations=20)))
    assert unclipped[-1].nonfinite
    clipped = list(run(config.replace(iterations=200)))
    assert not any(f.nonfinite for f in clipped)
    assert clipped[-1].loss < 1e-10 * clipped[0].loss


def test_the_edge_of_chaos_stays_flat_while_it_runs():
    """Scene 31's caption holds for the run on screen, not only for its first update."""
    config = next(p for p in presets() if p.name == "31-edge-of-chaos").scenario.config
    slopes = np.array([f.fitted_slope for f in run(config.replace(iterations=100))])
    assert abs(slopes.mean()) < 0.01
    assert np.mean(np.abs(slopes) < 0.01) > 0.8
    assert next(run(config.replace(w_rec_scale=1.0))).fitted_slope == pytest.approx(-0.04, abs=0.005)
    assert next(run(config.replace(w_rec_scale=1.5))).fitted_slope == pytest.approx(0.02, abs=0.005)
