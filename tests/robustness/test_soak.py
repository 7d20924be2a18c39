"""Soak: stream thousands of frames of the default scene into the real window; memory stays flat
and the displayed frame rate steady.

    python -m pytest -m slow tests/robustness/test_soak.py     # 10,000 frames (several minutes)

Uses ``gradlab.benchmarks.soak`` (which samples the RSS of the window's process and of the
simulation process, and the displayed fps, per interval of frames after a warm-up).

Criteria, and why:
- memory: every sample after the warm-up within ±20 MB of the first one (the issue's figure),
  for both processes. The short run does not extrapolate a growth rate: the simulation process's
  RSS, sampled from outside at any moment of an update, swings by up to that update's peak
  (~3–6 MB in the default scene), more than a 2 KB-per-frame leak adds in 1,000 frames; the
  10,000-frame run (CI's slow step) is the one that shows a leak.
- frame rate: the best fps among the last third of the intervals is at least half the median of
  the first third. A per-frame cost growing with the history (an unbounded curve redrawn every
  frame) slows every late interval and fails this; a passing slow phase of a shared machine
  (seen: two intervals at 15-22 fps among 40-50) slows only some. Absolute fps is the GUI
  benchmark's business, not this test's.
"""

from __future__ import annotations

import statistics

import pytest

import gradlab.benchmarks.soak as soak_module

RSS_TOLERANCE_MB = 20.0
FULL_FRAMES = 10_000
FPS_KEPT = 0.5


def _check(result: soak_module.SoakResult) -> None:
    samples = result.samples
    lines = [
        f"  after {f:6d} frames: window {g:7.1f} MB, simulation {s:7.1f} MB, {fps:5.1f} fps" for f, g, s, fps in samples
    ]
    report = "\n".join(lines)
    print("\n" + report)
    assert len(samples) >= 6, f"too few samples:\n{report}"
    gui_drift, sim_drift = result.drift_mb()
    assert gui_drift <= RSS_TOLERANCE_MB, f"window process RSS drifted {gui_drift:.1f} MB:\n{report}"
    assert sim_drift <= RSS_TOLERANCE_MB, f"simulation process RSS drifted {sim_drift:.1f} MB:\n{report}"
    rates = [s[3] for s in samples[1:]]  # the first sample's fps includes the warm-up
    third = max(1, len(rates) // 3)
    first, last = statistics.median(rates[:third]), max(rates[-third:])
    assert last >= FPS_KEPT * first, (
        f"displayed fps fell from a median {first:.1f} to at best {last:.1f} (below {FPS_KEPT:.0%}):\n{report}"
    )


def test_soak_short(monkeypatch, errors):
    """1,000 frames: 200 of warm-up, then a sample every 50."""
    monkeypatch.setattr(soak_module, "WARM_UP_FRAMES", 200)
    result = soak_module.soak(1000, sample_every=50, timeout_s=300)
    _check(result)
    errors.check()


@pytest.mark.slow
def test_soak_ten_thousand_frames(errors):
    result = soak_module.soak(FULL_FRAMES, timeout_s=3600)
    assert result.samples and result.samples[-1][0] >= FULL_FRAMES, "the soak timed out"
    _check(result)
    errors.check()
