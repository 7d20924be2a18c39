"""The lecture's flow: the pace (slow motion, paused scenes), a status bar without stale messages,
readouts of the last frame, and the keyboard after typing into a control."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gradlab.core import Config
from gradlab.core.scenario import Scenario, parse_scenario
from gradlab.presets import presets
from gradlab.ui.session import RunState


def _iteration(window) -> int:  # type: ignore[no-untyped-def]
    frame = window.session.latest_frame
    return frame.iteration if frame is not None else 0


def test_slow_motion_steps_the_run_and_says_so_and_space_pauses_it(window, qtbot, focused):
    focused(window)
    qtbot.waitUntil(lambda: _iteration(window) >= 1, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)  # slower: 30 updates/s
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)  # 10 updates/s
    assert window.pacer.speed == 10
    assert window.controller.paused  # paced by single steps
    assert window.caption.state == "slow · 10/s"
    assert window.play_action.text() == "Pause"
    start = _iteration(window)
    qtbot.waitUntil(lambda: _iteration(window) >= start + 3, timeout=20_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.caption.state == "paused" and window.play_action.text() == "Play"
    qtbot.wait(300)
    QApplication.processEvents()
    held = _iteration(window)
    qtbot.wait(500)
    assert _iteration(window) == held  # paused means no more steps
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert window.pacer.speed is None
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.controller.paused and window.caption.state == ""
    qtbot.waitUntil(lambda: _iteration(window) > held + 5, timeout=10_000)


def test_a_scene_may_start_paused_on_its_first_update(window, qtbot):
    scenario = Scenario("Held", "Starts paused.", Config(hidden_size=8, seq_len=20, batch_size=4), starts_paused=True)
    assert parse_scenario(scenario.to_json()).starts_paused
    window.load_scene(scenario)
    qtbot.waitUntil(lambda: _iteration(window) == 1, timeout=10_000)
    assert window.controller.paused and window.caption.state == "paused"
    window.set_controls_visible(False)  # presenter mode: the caption band still says it
    assert window.caption.isVisible() and window.caption.state == "paused"
    qtbot.wait(500)
    assert _iteration(window) == 1


def test_the_runs_own_explanation_stays_and_no_message_outlives_its_run(window, qtbot):
    exploding = next(p for p in presets() if p.name.startswith("03-"))
    window.load_preset(exploding.name)
    qtbot.waitUntil(lambda: window.session.status.state == RunState.FINISHED, timeout=20_000)
    assert "Diverged at update 2" in window.notice.text and "clipping" in window.notice.text
    assert window.status.currentMessage() == ""  # one instruction (the notice's), not a second one cut off
    window.load_preset(presets()[0].name)
    assert window.status.currentMessage() == "" and window.notice.text == ""


def test_the_readouts_show_the_last_frame_of_a_short_run(window, qtbot):
    for iterations in (3, 2):  # the second starts right after the first: no refresh may be skipped
        window.set_config(Config(hidden_size=8, seq_len=20, batch_size=4, iterations=iterations))
        qtbot.waitUntil(lambda: window.session.status.state == RunState.FINISHED, timeout=20_000)
        assert "Run finished" in window.status.currentMessage()
        qtbot.waitUntil(lambda it=iterations: window.status.shown_iteration == str(it), timeout=5000)
        qtbot.waitUntil(lambda it=iterations: window.caption.iteration.value == str(it), timeout=5000)


def test_after_typing_a_value_and_return_the_scene_keys_work_again(window, qtbot, focused):
    focused(window)
    spin = window.controls.scale_spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    spin.selectAll()
    qtbot.keyClicks(spin, "0.7")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.config.w_rec_scale == 0.7
    qtbot.keyClick(window.focusWidget() or window, Qt.Key.Key_3)
    assert window.session.scene.preset.startswith("03-")
    assert window.config == presets()[2].scenario.config


def test_an_over_cap_value_typed_into_the_controls_says_why_it_was_refused(window, qtbot):
    window.set_config(Config(hidden_size=1024, seq_len=100, batch_size=64))
    spin = window.controls.seq_spin
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, "10000")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.config.seq_len == 100 and spin.value() == 100
    assert window.notice.isVisible()
    assert "3 GiB" in window.notice.text and "seq_len stays at 100" in window.notice.text


@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")
def test_the_alert_takes_the_rates_place_and_every_readout_fits(qtbot):
    from PySide6.QtWidgets import QMainWindow

    from gradlab.ui.status import StatusPanel

    window = QMainWindow()
    qtbot.addWidget(window)
    status = StatusPanel()
    window.setStatusBar(status)
    font = status.font()
    font.setPointSizeF(font.pointSizeF() * 1.32 * 1.15)
    status.setFont(font)
    window.resize(1280, 720)
    window.show()
    status.set_alert("⚠ NaN/Inf: loss=nan, gradients=nan, weights=nan")
    qtbot.waitUntil(lambda: status.sigma_label.isVisible(), timeout=5000)
    qtbot.wait(50)
    right = status.sigma_label.geometry().right()
    assert right <= status.width(), (right, status.width())
    assert not status.updates_label.isVisible() and not status.fps_label.isVisible()
    status.set_alert("")
    assert status.updates_label.isVisible() and status.fps_label.isVisible()
