"""The whole window: plots change, stale frames are never drawn, shortcuts, alerts, closing, not blank."""

from __future__ import annotations

import numpy as np
from patience import PATIENCE_MS
from PySide6.QtCore import Qt, QTimer

from gradlab.core import Config
from gradlab.core.record import UpdateLog
from gradlab.ui.app import launch
from gradlab.ui.simulation import Delivery, live_processes


def _wait_frames(window, qtbot, count: int = 1, run_id: int | None = None) -> None:  # type: ignore[no-untyped-def]
    run_id = run_id or window.controller.run_id
    target = window.frames_displayed + count
    qtbot.waitUntil(
        lambda: window.frames_displayed >= target and window.controller.run_id == run_id,
        timeout=PATIENCE_MS,
    )


def test_frames_arrive_and_every_plot_changes(window, qtbot):
    _wait_frames(window, qtbot, 2)
    latest_before = np.array(window.gradient_plot.latest_curve.yData, copy=True)
    training_before = len(window.training_plot.grad_curve.yData)
    _wait_frames(window, qtbot, 3)
    assert not np.array_equal(window.gradient_plot.latest_curve.yData, latest_before)
    assert len(window.training_plot.grad_curve.yData) > training_before
    assert len(window.gradient_plot.latest_curve.yData) == window.config.seq_len
    assert window.weights_plot.weights_hist.yData is not None
    assert len(window.spectrum_plot.eigenvalue_points.data) == window.config.hidden_size
    assert "slope" in " ".join(window.gradient_plot.legend_text())
    # Training history is complete although frames were coalesced.
    history = window.training_plot.history
    assert history.total == history.iteration.size
    assert list(history.iteration) == list(range(1, history.total + 1))


def test_a_stale_delivery_is_dropped_not_drawn(window, qtbot):
    _wait_frames(window, qtbot, 1)
    window.controller.pause()
    qtbot.wait(100)
    frame = window.gradient_plot.latest_curve.yData.copy()
    stale_frame = next(iter(_frames(window.config.replace(seq_len=7), 1)))
    stale = Delivery(
        run_id=window.controller.run_id - 1,
        config=window.config,
        frame=stale_frame,
        history=UpdateLog.of([stale_frame]),
    )
    dropped_before = window.stale_deliveries_dropped
    window.controller.yielded.emit(stale)  # as a delivery of a superseded run would arrive
    assert window.stale_deliveries_dropped == dropped_before + 1
    assert np.array_equal(window.gradient_plot.latest_curve.yData, frame, equal_nan=True)


def test_a_control_change_mid_run_shows_only_the_new_run(window, qtbot):
    _wait_frames(window, qtbot, 2)
    shown: list[tuple[int, int]] = []
    window.frame_displayed.connect(lambda run_id, iteration: shown.append((run_id, iteration)))
    window.controls.seq_spin.setValue(31)
    new_id = window.controller.run_id
    _wait_frames(window, qtbot, 3, run_id=new_id)
    assert all(run_id == new_id for run_id, _ in shown)
    assert len(window.gradient_plot.latest_curve.yData) == 31


def _frames(config: Config, count: int):  # type: ignore[no-untyped-def]
    from gradlab.core import run

    generator = run(config)
    for _ in range(count):
        yield next(generator)
    generator.close()


def test_pause_step_reset_buttons_and_shortcuts(window, qtbot):
    _wait_frames(window, qtbot, 1)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=PATIENCE_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.controller.paused
    assert window.play_action.text() == "Play"
    qtbot.waitUntil(lambda: window.controller.caught_up, timeout=PATIENCE_MS)  # updates already computed have arrived
    iteration = window.session.latest_frame.iteration  # type: ignore[union-attr]
    qtbot.keyClick(window, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: window.session.latest_frame.iteration == iteration + 1, timeout=PATIENCE_MS)  # type: ignore[union-attr]
    old_run = window.controller.run_id
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert window.controller.run_id == old_run + 1
    # Reset while paused shows the first update of the new run and waits.
    qtbot.waitUntil(
        lambda: window.session.latest_frame is not None and window.session.latest_frame.iteration == 1,
        timeout=PATIENCE_MS,
    )  # type: ignore[union-attr]
    window.transport.buttons[0].click()  # Play
    assert not window.controller.paused
    qtbot.waitUntil(lambda: window.session.latest_frame.iteration > 3, timeout=PATIENCE_MS)  # type: ignore[union-attr]


def test_exact_zeros_are_marked_not_dropped(window, qtbot):
    window.set_config(Config(hidden_size=8, seq_len=20, batch_size=4, truncation=5))
    _wait_frames(window, qtbot, 1)
    y = np.asarray(window.gradient_plot.truncated_markers.data["x"])
    # Truncated BPTT: nothing flows back more than 5 steps, those norms are 0 by construction,
    # and the legend says so (not "underflow").
    assert y.size == 15
    assert window.gradient_plot.zero_markers.data.size == 0
    texts = window.gradient_plot.legend_text()
    assert any("0 (truncated)" in text for text in texts)
    assert not any("underflow" in text for text in texts)


def test_an_exploding_float32_run_shows_the_alert_and_stays_responsive(window, qtbot):
    exploding = Config(
        activation="linear",
        w_rec_scale=3.0,
        seq_len=100,
        hidden_size=16,
        batch_size=4,
        dtype="float32",
        lr=0.5,
    )
    window.set_config(exploding)
    qtbot.waitUntil(lambda: "NaN/Inf" in window.status.alert_text, timeout=PATIENCE_MS)
    markers = window.gradient_plot
    assert markers.inf_markers.data.size + markers.nan_markers.data.size > 0
    # Still responsive: control changes start a new, healthy run and clear the alert.
    window.controls.scale_spin.setValue(0.5)
    window.controls.dtype.setCurrentIndex(window.controls.dtype.findData("float64"))
    window.controls.lr.setValue(0.01)
    qtbot.waitUntil(lambda: window.controller.config.lr == 0.01, timeout=PATIENCE_MS)
    _wait_frames(window, qtbot, 2)
    assert window.controller.config.w_rec_scale == 0.5
    assert window.status.alert_text == ""


def test_a_simulation_error_is_shown_in_the_window(window, qtbot):
    # The run generator is looked up by name in the simulation process (tests/ui/simulated_failures.py).
    window.controller.run_path = "simulated_failures:failing_run"
    window.reset()
    qtbot.waitUntil(lambda: not window.banner.isHidden(), timeout=PATIENCE_MS)
    assert "the simulation broke" in window.banner.text()


def test_freeze_bin_edges_reaches_the_run(window, qtbot):
    window.weights_plot.freeze_box.setChecked(True)
    assert window.controller.edges_frozen
    window.reset()
    assert window.controller.edges_frozen


def test_closing_mid_run_stops_every_thread_within_a_second(qtbot):
    from gradlab.ui.app import application, create_window

    application()
    window = create_window(Config(hidden_size=32, seq_len=200, batch_size=8))
    qtbot.addWidget(window)
    window.show()
    window.start()
    qtbot.waitUntil(lambda: window.frames_displayed >= 1, timeout=PATIENCE_MS)
    window.controls.seq_spin.setValue(150)  # a superseded run is finishing in the background too
    window.close()
    assert not live_processes()  # ended by the time close() returns


def test_the_rendered_window_is_not_blank(window, qtbot):
    _wait_frames(window, qtbot, 3)
    image = window.grab().toImage()
    assert image.width() >= 1000 and image.height() >= 600
    step = 7
    colours = {image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)}
    assert len(colours) > 20
    # The main plot itself has drawn something besides its background.
    plot_image = window.gradient_plot.grab().toImage()
    background = plot_image.pixel(2, 2)
    drawn = sum(
        plot_image.pixel(x, y) != background
        for x in range(0, plot_image.width(), 5)
        for y in range(0, plot_image.height(), 5)
    )
    assert drawn > 50


def test_launch_quits_by_itself_after_n_frames(qtbot):
    status = launch(Config(hidden_size=8, seq_len=20, batch_size=4), exit_after_frames=3)
    assert status == 0
    assert not live_processes()
    # Nothing of that launch is left queued to stop the process's later event loops: a timer set
    # after it still fires (a stray Quit event left them returning at once, so none ever did).
    qtbot.wait(20)
    fired: list[bool] = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=PATIENCE_MS)


def test_the_why_key_shows_the_factors_of_the_latest_frame_in_place_of_the_spectrum(
    window, qtbot, focused, wait_frames
):
    panel = window.why_panel
    assert window.commands.why in dict(window.commands.menus())["&View"]
    wait_frames(window, 1, timeout=PATIENCE_MS)
    assert panel.mode == "factors"  # fed with every frame, shown or not
    focused(window)
    qtbot.keyClick(window, Qt.Key.Key_Y)
    assert window.commands.why.isChecked()
    qtbot.waitUntil(panel.isVisible)
    assert not window.spectrum_plot.isVisible()
    wait_frames(window, 2, timeout=PATIENCE_MS)
    # The GUI thread draws a frame and records it as the latest in one step: they always agree.
    frame = window.session.latest_frame
    steps, summed = panel.step_curve.getData()
    np.testing.assert_allclose(
        summed, frame.log10_activation_factor[steps.astype(int)] + frame.log10_weight_factor, rtol=1e-12
    )
    assert f"weights {frame.log10_weight_factor:+.2f}" in panel.readout.text()

    window.set_config(window.config.replace(cell="lstm"))
    qtbot.waitUntil(lambda: window.session.latest_frame is not None and panel.mode == "gates", timeout=PATIENCE_MS)
    _, counts = panel.gate_bars.getData()
    assert counts.sum() == window.config.hidden_size
    assert "mean f" in panel.readout.text()

    qtbot.keyClick(window, Qt.Key.Key_Y)
    assert not window.commands.why.isChecked()
    qtbot.waitUntil(window.spectrum_plot.isVisible)
    assert not panel.isVisible()
