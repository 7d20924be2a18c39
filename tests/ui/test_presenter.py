"""Presenter view: font scale and theme reach the plots, controls hide, full screen, big readouts."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from patience import PATIENCE_MS
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from gradlab.ui.theme import MAX_SCALE, MIN_SCALE, Theme
from gradlab.ui.view import LARGEST_SCALE_PRESENTING


def _sizes(window) -> dict[str, float]:  # type: ignore[no-untyped-def]
    plot = window.gradient_plot.getPlotItem()
    legend_label = window.gradient_plot.legend.items[0][1]
    return {
        "tick_font": plot.getAxis("bottom").style["tickFont"].pointSizeF(),
        "axis_label": plot.getAxis("bottom").label.font().pointSizeF(),
        "latest_pen": window.gradient_plot.latest_curve.opts["pen"].widthF(),
        "grad_pen": window.training_plot.grad_curve.opts["pen"].widthF(),
        "marker": window.gradient_plot.zero_markers.opts["size"],
        "eigen_marker": window.spectrum_plot.eigenvalue_points.opts["size"],
        "legend": float(legend_label.opts["size"].removesuffix("pt")),
        "app_font": QApplication.font().pointSizeF(),
        "title": float(window.caption.title_label.styleSheet().split("font-size: ")[1].split("pt")[0]),
    }


def test_bigger_and_smaller_scale_every_font_line_and_marker_of_the_plots_too(window, qtbot, focused):
    focused(window)
    before = _sizes(window)
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    bigger = _sizes(window)
    assert window.theme.scale == pytest.approx(1.15**2)
    for name, value in before.items():
        assert bigger[name] > value, name
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.theme.scale == pytest.approx(1.15)
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.theme.scale == 1.0
    assert _sizes(window) == before


def test_the_scale_stays_within_its_limits():
    assert Theme().scaled(100).scale == MAX_SCALE
    assert Theme().scaled(0.001).scale == MIN_SCALE


def test_switching_the_theme_recolours_the_plots_and_the_widgets(window, qtbot, focused):
    focused(window)
    assert window.theme.name == "projector"
    light_background = window.gradient_plot.backgroundBrush().color()
    light_pen = window.gradient_plot.latest_curve.opts["pen"].color()
    light_axis = window.gradient_plot.getPlotItem().getAxis("left").pen().color()
    qtbot.keyClick(window, Qt.Key.Key_T)
    assert window.theme.name == "dark"
    assert window.commands.theme_dark.isChecked()
    dark_background = window.gradient_plot.backgroundBrush().color()
    assert dark_background.lightness() < 50 < light_background.lightness()
    assert window.gradient_plot.latest_curve.opts["pen"].color() != light_pen
    assert window.gradient_plot.getPlotItem().getAxis("left").pen().color() != light_axis
    for plot in (window.training_plot, window.weights_plot.graphics, window.spectrum_plot.plot_widget):
        assert plot.backgroundBrush().color() == dark_background
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 60
    window.commands.theme_projector.trigger()
    assert window.theme.name == "projector"
    assert window.gradient_plot.backgroundBrush().color() == QColor("#FFFFFF")


def test_the_theme_keeps_the_scale_and_the_scale_keeps_the_theme(window):
    window.set_font_scale(1.25)
    window.set_theme("dark")
    assert window.theme == Theme(dark=True).with_scale(1.25)
    window.set_font_scale(1.0)
    assert window.theme.dark


def test_h_hides_the_controls_so_the_plots_fill_the_window(window, qtbot, focused):
    focused(window)
    qtbot.wait(50)
    width = window.gradient_plot.width()
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert not window.controls_visible
    assert window.toolbar.isHidden()
    qtbot.waitUntil(lambda: window.gradient_plot.width() > width + 200, timeout=PATIENCE_MS)
    qtbot.keyClick(window, Qt.Key.Key_H)
    assert window.controls_visible


def test_f11_toggles_full_screen_and_escape_leaves_it(window, qtbot, focused):
    focused(window)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    qtbot.waitUntil(window.isFullScreen, timeout=PATIENCE_MS)
    assert window.commands.full_screen.isChecked()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen(), timeout=PATIENCE_MS)
    assert not window.commands.full_screen.isChecked()


def test_big_readouts_show_rho_slope_and_iteration(window, qtbot, wait_frames):
    wait_frames(window, 3)
    window.caption.refresh()
    frame = window.session.latest_frame
    assert frame is not None
    assert window.caption.iteration.value == str(frame.iteration)
    assert float(window.caption.radius.value) == pytest.approx(frame.spectral_radius, abs=1e-3)
    assert float(window.caption.slope.value) == pytest.approx(frame.fitted_slope, abs=1e-3)


def test_a_size_change_restyles_only_the_named_widgets(window, qtbot, focused):
    """The window's own sheet (which makes every widget re-style when it changes) depends on the
    colours only; sizes live in the named widgets' own sheets."""
    focused(window)
    window_sheet, title_sheet = window.styleSheet(), window.caption.title_label.styleSheet()
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.styleSheet() == window_sheet
    assert window.caption.title_label.styleSheet() != title_sheet
    qtbot.keyClick(window, Qt.Key.Key_T)
    assert window.styleSheet() != window_sheet
    for name, sheet in window.theme.stylesheets().items():
        widgets = [w for w in window.findChildren(QWidget) if w.objectName() == name]
        assert widgets and all(w.styleSheet() == sheet for w in widgets), name


def _legend_fits(plot) -> bool:  # type: ignore[no-untyped-def]
    """Every legend entry's text lies inside the plot's data area (nothing clipped)."""
    view = plot.getPlotItem().getViewBox()
    right = view.mapToScene(view.boundingRect().topRight()).x()
    for _, label in plot.legend.items:
        text_right = label.item.mapToScene(label.item.boundingRect().topRight()).x()
        if text_right > right + 0.5:
            return False
    return True


def test_the_gradient_legend_stacks_its_entries_when_they_do_not_fit_side_by_side(window, qtbot):
    plot = window.gradient_plot
    window.resize(1920, 1080)
    qtbot.waitUntil(lambda: "slope" in " ".join(plot.legend_text()), timeout=PATIENCE_MS)
    qtbot.wait(50)
    # one row: measured, predicted and bound side by side
    assert plot.legend.columnCount == len(plot.legend.items) == 3 and _legend_fits(plot)
    window.resize(1280, 720)
    for _ in range(2):  # bigger fonts: the entries stack and still fit
        qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(50)
    assert plot.legend.columnCount < len(plot.legend.items) and _legend_fits(plot)
    window.set_controls_visible(False)
    for _ in range(2):  # larger still, as large as the window holds without the controls (H)
        qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(50)
    assert window.theme.scale == pytest.approx(LARGEST_SCALE_PRESENTING, abs=0.01) and _legend_fits(plot)
    # The curves are drawn below the legend: the data's top is under its bottom edge.
    view = plot.getPlotItem().getViewBox()
    legend_bottom = plot.legend.mapToScene(plot.legend.boundingRect().bottomLeft()).y()
    data_top = view.mapViewToScene(pg.Point(0, plot.y_limits[1])).y()
    assert data_top > legend_bottom


def test_histogram_count_labels_fit_their_short_panels(window, qtbot):
    """At 1280×720 a histogram panel is a few text lines high: its count axis labels 0 and at
    least one more value, never more than fit without overlapping."""
    window.resize(1280, 720)
    panel = window.weights_plot
    qtbot.waitUntil(lambda: panel.grad_hist.yData is not None and len(panel.grad_hist.yData) > 0, timeout=PATIENCE_MS)
    qtbot.wait(50)
    for plot in (panel.weights_plot, panel.grad_plot):
        axis = plot.getAxis("left")
        low, high = plot.getViewBox().viewRange()[1]
        size = plot.getViewBox().height()
        labelled = [v for _, values in axis.tickValues(low, high, size) for v in values if low <= v <= high]
        label_px = QFontMetricsF(axis.style["tickFont"]).height()
        assert 0.0 in labelled and len(labelled) >= 2
        assert len(labelled) * label_px <= size, (labelled, size)


def test_the_slope_readout_is_per_layer_in_depth_mode(qtbot):
    from gradlab.core import Config, run
    from gradlab.ui.presenter import CaptionBand

    band = CaptionBand()
    qtbot.addWidget(band)
    deep = next(run(Config(cell="mlp", task="spirals", hidden_size=16, seq_len=6, iterations=1)))
    assert deep.layer_stats is not None
    band.frame_shown(deep)
    band.refresh()
    assert band.slope.name_label.text() == "slope/layer"
    assert float(band.slope.value) == pytest.approx(deep.fitted_slope, abs=1e-3)
    rnn = next(run(Config(hidden_size=16, seq_len=6, iterations=1)))
    band.frame_shown(rnn)
    band.refresh()
    assert band.slope.name_label.text() == "slope/step"
