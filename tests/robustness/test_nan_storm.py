"""NaN storms: float32 runs of every cell type that blow up after a few healthy updates. The window
never crashes, shows the red alert, stays responsive, and Reset brings back finite numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import controller_state
from patience import PATIENCE_MS
from PySide6.QtCore import Qt, QTimer

from gradlab.core import Config, Frame, run
from gradlab.ui.simulation import Delivery

# Found with gradlab.core.run headless (and checked again below): the first updates are finite,
# the weights become NaN after about ten updates, and the run ends there.
EXPLODING = {
    "rnn": Config(
        cell="rnn",
        activation="relu",
        w_rec_scale=1.5,
        lr=0.05,
        seq_len=20,
        hidden_size=16,
        batch_size=4,
        dtype="float32",
    ),
    "lstm": Config(cell="lstm", w_rec_scale=1.5, lr=10.0, seq_len=20, hidden_size=16, batch_size=4, dtype="float32"),
    "gru": Config(cell="gru", w_rec_scale=1.5, lr=10.0, seq_len=20, hidden_size=16, batch_size=4, dtype="float32"),
}
HEALTHY_UPDATES = 3  # at least this many finite updates before the blow-up
DIVERGES_WITHIN = 60


def _finite_frame(frame: Frame) -> bool:
    """Every number shown is finite; exact zeros (-inf in log10, underflow) are allowed."""
    log10 = np.asarray(frame.log10_dh_norm, dtype=np.float64)
    return (
        not frame.nonfinite
        and math.isfinite(frame.loss)
        and math.isfinite(frame.grad_norm)
        and not np.isnan(log10).any()
        and not np.isposinf(log10).any()
    )


def _headless_profile(config: Config) -> list[Frame]:
    return list(run(config.replace(iterations=DIVERGES_WITHIN)))


@pytest.mark.parametrize("cell", sorted(EXPLODING))
def test_the_premise_healthy_first_then_diverges(cell):
    frames = _headless_profile(EXPLODING[cell])
    assert all(_finite_frame(f) for f in frames[:HEALTHY_UPDATES]), [f.nonfinite.describe() for f in frames[:5]]
    assert frames[-1].final and frames[-1].nonfinite.weights, "the run does not blow up within 60 updates"
    assert "Diverged" in frames[-1].message


@pytest.mark.parametrize("cell", sorted(EXPLODING))
def test_an_exploding_run_alerts_stays_responsive_and_reset_recovers(cell, small_window, qtbot, errors):
    window = small_window
    config = EXPLODING[cell]
    qtbot.waitUntil(lambda: window.frames_displayed >= 1, timeout=PATIENCE_MS)
    deliveries: list[Delivery] = []
    window.controller.yielded.connect(deliveries.append)

    run_id = window.set_config(config)
    qtbot.waitUntil(lambda: "NaN/Inf" in window.status.alert_text, timeout=PATIENCE_MS)
    assert window.status.alert_label.isVisible()
    qtbot.waitUntil(lambda: not window.controller.running, timeout=PATIENCE_MS)  # a diverged run ends
    shown = [d.frame for d in deliveries if d.run_id == run_id and d.frame is not None]
    assert shown and not _finite_frame(shown[-1])
    assert "Diverged" in window.notice.text or any("Diverged" in f.message for f in shown)

    # Still responsive: the event loop runs (a timer fires), an action works, a key works.
    with qtbot.waitSignal(_single_shot(window, 50), timeout=PATIENCE_MS):
        pass
    window.play_action.trigger()
    assert window.controller.paused and window.play_action.text() == "Play"
    window.play_action.trigger()
    assert not window.controller.paused

    # Reset (key R) starts again from the initial weights: the first frames are finite, no alert.
    alerts_when_first_shown: list[str] = []

    def on_shown(shown_run: int, iteration: int) -> None:
        if shown_run != run_id and not alerts_when_first_shown:
            alerts_when_first_shown.append(window.status.alert_text)

    window.frame_displayed.connect(on_shown)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=PATIENCE_MS)
    qtbot.keyClick(window, Qt.Key.Key_R)
    new_id = window.controller.run_id
    assert new_id != run_id, "R did not reset"
    qtbot.waitUntil(lambda: bool(alerts_when_first_shown), timeout=PATIENCE_MS)
    first = next(d for d in deliveries if d.run_id == new_id and d.frame is not None)
    assert first.frame.iteration <= HEALTHY_UPDATES, f"first frame after reset is update {first.frame.iteration}"
    assert _finite_frame(first.frame), first.frame.nonfinite.describe()
    assert all(math.isfinite(v) for v in first.history.loss)
    assert alerts_when_first_shown == [""], f"alert still shown after reset: {alerts_when_first_shown}"
    # And the same run blows up again, with the alert: the event repeats, it does not wedge anything.
    qtbot.waitUntil(lambda: "NaN/Inf" in window.status.alert_text, timeout=PATIENCE_MS)
    errors.check()


@pytest.mark.parametrize("cell", sorted(EXPLODING))
def test_hammering_reset_during_a_nan_storm(cell, small_window, qtbot, errors):
    """Reset pressed again and again while runs blow up: no error, and the last reset's run starts
    from the initial weights with finite numbers (its first updates may be coalesced into one
    delivery with the blow-up when they take less than a display tick; the per-update history
    still shows them)."""
    window = small_window
    window.set_config(EXPLODING[cell])
    deliveries: list[Delivery] = []
    window.controller.yielded.connect(deliveries.append)
    for index in range(30):
        window.reset_action.trigger()
        qtbot.wait(index % 7 * 15)  # 0 … 90 ms: some resets land mid-run, some after the blow-up
    last = window.controller.run_id
    try:
        qtbot.waitUntil(lambda: any(d.run_id == last and d.frame is not None for d in deliveries), timeout=PATIENCE_MS)
    except Exception:
        raise AssertionError(f"no frame after the last reset; {controller_state(window)}") from None
    first = next(d for d in deliveries if d.run_id == last and d.frame is not None)
    history = first.history
    assert history.iteration[0] == 1
    assert np.isfinite(history.loss[:HEALTHY_UPDATES]).all(), history.loss
    assert np.isfinite(history.grad_norm[:HEALTHY_UPDATES]).all(), history.grad_norm
    qtbot.waitUntil(lambda: "NaN/Inf" in window.status.alert_text, timeout=PATIENCE_MS)
    errors.check()


def _single_shot(parent, milliseconds: int):  # type: ignore[no-untyped-def]
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.start(milliseconds)
    return timer.timeout
