"""The window's look: the help overlay floats, every widget follows the type size, the type grows
with the window."""

from __future__ import annotations

import pytest
from patience import PATIENCE_MS
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu, QSpinBox


def _plot_geometry(window) -> list:  # type: ignore[no-untyped-def]
    return [plot.geometry() for plot in window.grid.plots()]


def _layout(window) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What the eye sees of the window's layout, widget by widget."""
    spin = window.controls.findChildren(QSpinBox)[0]
    menu = window.menuBar().findChildren(QMenu)[0]
    return {
        "plots": _plot_geometry(window),
        "dock": window.control_scroll.geometry(),
        "toolbar": window.toolbar.geometry(),
        "status": window.status.geometry(),
        "menu bar": window.menuBar().geometry(),
        "caption": window.caption.geometry(),
        "spin font": spin.font().pointSizeF(),
        "spin": spin.sizeHint(),
        "toolbar font": window.toolbar.font().pointSizeF(),
        "status font": window.status.iteration_label.font().pointSizeF(),
        "status width": window.status.iteration_label.minimumWidth(),
        "transport": window.transport.buttons[0].minimumHeight(),
        "menu font": menu.font().pointSizeF(),
    }


def _settled(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    QApplication.processEvents()
    qtbot.waitUntil(lambda: not window.view.resizing, timeout=5000)
    QApplication.processEvents()


def test_the_help_overlay_floats_over_the_window_and_fits_at_1280x720(window, qtbot, focused):
    focused(window)
    _settled(window, qtbot)
    before = _plot_geometry(window)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    overlay = window.help_overlay
    qtbot.waitUntil(overlay.isVisible, timeout=2000)
    QApplication.processEvents()
    assert _plot_geometry(window) == before
    assert window.splitter.count() == 2
    assert window.rect().contains(overlay.geometry())
    assert overlay.fits()
    window.set_font_scale(1.32)
    assert overlay.fits() and window.rect().contains(overlay.geometry())
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert overlay.isHidden()


def test_bigger_scales_every_widget_and_ctrl0_restores_the_launch_layout_after_a_theme_switch(window, qtbot, focused):
    focused(window)
    _settled(window, qtbot)
    launch = _layout(window)
    for _ in range(2):
        qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    QApplication.processEvents()
    bigger = _layout(window)
    for name in ("spin font", "toolbar font", "status font", "menu font", "status width", "transport"):
        assert bigger[name] > launch[name], name  # type: ignore[operator]
    qtbot.keyClick(window, Qt.Key.Key_T)  # the theme switched while enlarged
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_T)
    # Re-styled widgets post their layout requests: the window's layout settles a few events later.
    qtbot.waitUntil(lambda: _layout(window) == launch, timeout=PATIENCE_MS)


def test_at_1920x1080_the_type_grows_with_the_window(window, qtbot):
    _settled(window, qtbot)
    font = QApplication.font().pointSizeF()
    axis = window.grid.gradient_plot.getPlotItem().getAxis("bottom")
    tick = axis.style["tickFont"].pointSizeF()
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: QApplication.font().pointSizeF() == font * 1.5, timeout=PATIENCE_MS)
    assert window.theme.scale == 1.0  # what the user chose (and settings keep) is unchanged
    spin = window.controls.findChildren(QSpinBox)[0]
    assert spin.font().pointSizeF() == font * 1.5
    assert axis.style["tickFont"].pointSizeF() == pytest.approx(tick * 1.5)  # the plots' type too
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: QApplication.font().pointSizeF() == font, timeout=PATIENCE_MS)
    assert axis.style["tickFont"].pointSizeF() == pytest.approx(tick)


def test_the_per_layer_view_is_drawn_only_while_shown_and_shows_the_latest_frame_at_once(window, wait_frames):  # type: ignore[no-untyped-def]
    import numpy as np

    from gradlab.core import Config

    layers = window.grid.layers_panel
    window.set_config(Config(cell="mlp", seq_len=6, hidden_size=16, batch_size=4))
    wait_frames(window, 3)
    assert layers.gradient_image.image is None and layers.readout.text() == ""  # hidden: never drawn

    window.commands.layers.setChecked(True)  # no event is processed before the checks below
    latest = window.session.latest_frame
    assert latest is not None and latest.layer_stats is not None
    _, log_std = layers.std_curve.getData()
    np.testing.assert_array_equal(log_std, np.log10(latest.layer_stats.activation_std))
    assert layers.gradient_image.image.shape[0] == 6  # a row per layer

    wait_frames(window, 2)  # shown: it follows the run
    _, log_std = layers.std_curve.getData()
    np.testing.assert_array_equal(log_std, np.log10(window.session.latest_frame.layer_stats.activation_std))


def test_bigger_stops_at_the_largest_size_the_window_holds_and_hiding_the_controls_allows_more(window, qtbot, focused):
    from gradlab.ui.view import LARGEST_SCALE_PRESENTING, LARGEST_SCALE_WITH_CONTROLS

    focused(window)
    window.resize(1280, 720)
    # The size reaches the window's room once the resize has settled (a posted event, then a timer).
    qtbot.waitUntil(lambda: window.view.room == 1.0 and not window.view.resizing, timeout=PATIENCE_MS)

    def bigger(times: int) -> None:
        for _ in range(times):
            qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)

    bigger(6)
    assert window.theme.scale == pytest.approx(LARGEST_SCALE_WITH_CONTROLS, abs=1e-3)
    assert window.status.currentMessage() == "Size 132%: the largest here"
    qtbot.keyClick(window, Qt.Key.Key_H)  # presenter mode: more room
    assert not window.view.controls_visible
    bigger(6)
    assert window.theme.scale == pytest.approx(LARGEST_SCALE_PRESENTING, abs=1e-3)
    assert window.view.shown.scale == pytest.approx(LARGEST_SCALE_PRESENTING, abs=1e-3)
    qtbot.keyClick(window, Qt.Key.Key_H)  # the controls back: shown at their largest, the choice kept
    assert window.view.shown.scale == pytest.approx(LARGEST_SCALE_WITH_CONTROLS, abs=1e-3)
    assert window.theme.scale == pytest.approx(LARGEST_SCALE_PRESENTING, abs=1e-3)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)  # smaller at once
    assert window.view.shown.scale == pytest.approx(LARGEST_SCALE_WITH_CONTROLS / 1.15, abs=1e-3)


@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")  # offscreen, shown
def test_the_plots_fall_back_to_side_by_side_then_to_four_tabs_and_back(qtbot):
    from gradlab.ui.plot_grid import PlotGrid
    from gradlab.ui.theme import Theme

    grid = PlotGrid(Theme().with_scale(2.0))
    qtbot.addWidget(grid)
    grid.show()

    def resized(width: int, height: int) -> str:
        grid.resize(width, height)
        qtbot.waitUntil(lambda: (grid.width(), grid.height()) == (width, height), timeout=PATIENCE_MS)
        QApplication.processEvents()
        return grid.arrangement

    assert resized(1500, 900) == "grid"
    assert resized(1300, 600) == "side"
    assert [grid.tabs.tabText(i) for i in range(grid.tabs.count())] == ["Spectrum", "Training", "Weights"]
    grid.tabs.setCurrentWidget(grid.weights_plot)
    assert resized(1000, 600) == "tabs"
    assert [grid.tabs.tabText(i) for i in range(grid.tabs.count())] == ["Gradient", "Spectrum", "Training", "Weights"]
    assert grid.tabs.currentWidget() is grid.weights_plot  # the page shown stays shown
    grid.tabs.setCurrentWidget(grid.gradient_plot)
    assert resized(1300, 600) == "side"
    assert grid.gradient_plot.isVisible()  # out of the tabs, beside them
    assert resized(1500, 900) == "grid"
    assert all(plot.isVisible() for plot in grid.plots())
