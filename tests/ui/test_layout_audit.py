"""Layout audit: every scene, drawn at the sizes a lecture uses, keeps its text and data legible.

For every scene (resources/presets) at 1280×720 and 1920×1080, fonts ×1, ×1.32 and ×1.75 (more
than the largest: the window shows ×1.32 beside the controls, ×1.52 without), both themes,
with and without the control panel — each scene twice, the combinations spread over the scenes
so that every one of them is met several times and the audit runs in a couple of minutes:

- no data point of any curve lies under a legend;
- every label's text fits its widget (QFontMetrics), plot titles and legend entries included;
- every decade (log) axis labels at least three decades inside its view;
- no two tick labels of an axis overlap, nor a tick label and the axis title;
- no panel is resized by its title (the longest titles the plots can show are forced in);
- the gradient plot, the main picture, keeps a usable data area (``MAIN_PLOT_MIN_SHARE``).

Where the plots area is laid out compactly (the secondary panels as tabs, or all four), each tab
is audited.
A ``slow`` run audits every scene in every combination.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re

import numpy as np
import pyqtgraph as pg
import pytest
from axis_labels import drawn_tick_labels
from patience import PATIENCE_MS
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication, QLabel

from gradlab.presets import presets

SIZES = ((1280, 720), (1920, 1080))
FONTS = (1.0, 1.32, 1.75)
THEMES = ("projector", "dark")
# Enough updates for each scene to show its picture (the exploding ones end after one or two).
FRAMES = 4


def _combinations() -> list[tuple[str, tuple[int, int], float, str, bool]]:
    """Each scene twice; the (size, font, theme, controls) combinations taken in turn."""
    combos = list(itertools.product(SIZES, FONTS, THEMES, (True, False)))
    cases = []
    for index, preset in enumerate(presets()):
        for turn in range(2):
            size, font, theme, controls = combos[(2 * index + turn * 5) % len(combos)]
            cases.append((preset.name, size, font, theme, controls))
    return cases


def _every_combination() -> list[tuple[str, tuple[int, int], float, str, bool]]:
    """Every scene in every (size, font, theme, controls) combination not in the fast run."""
    fast = set(_combinations())
    every = itertools.product((p.name for p in presets()), SIZES, FONTS, THEMES, (True, False))
    return [case for case in every if case not in fast]


def _case_id(case: tuple[str, tuple[int, int], float, str, bool]) -> str:
    name, size, font, theme, controls = case
    return f"{name[:2]}-{size[0]}-x{font}-{theme}-{'controls' if controls else 'presenter'}"


@pytest.fixture
def scene_window(qtbot, request):  # type: ignore[no-untyped-def]
    from gradlab.ui.app import application, create_window
    from gradlab.ui.theme import Theme

    name, (width, height), font, theme_name, controls = request.param
    preset = next(p for p in presets() if p.name == name)
    theme = Theme.named(theme_name, font)
    application(theme)
    window = create_window(scenario=preset.scenario, preset_name=preset.name, theme=theme)
    qtbot.addWidget(window)
    window.resize(width, height)
    window.set_controls_visible(controls)
    window.show()
    window.start()
    qtbot.waitUntil(
        lambda: window.frames_displayed >= FRAMES or (window.frames_displayed >= 1 and not window.controller.running),
        timeout=PATIENCE_MS,
    )
    window.controller.pause()
    qtbot.wait(300)  # the last frame and the legends' refresh timers
    QApplication.processEvents()
    yield window
    window.close()


# ---- what the audit measures ------------------------------------------------------------------
def _shown(plot: pg.PlotItem) -> bool:
    """The plot is on screen (the compact layout shows one of its tabs at a time)."""
    views = plot.scene().views() if plot.scene() is not None else []
    return bool(views) and views[0].isVisible()


def _plot_items(window) -> list[pg.PlotItem]:  # type: ignore[no-untyped-def]
    plots = [
        window.gradient_plot.getPlotItem(),
        window.spectrum_plot.plot_widget.getPlotItem(),
        window.training_plot.grad_plot,
        window.training_plot.loss_plot,
        window.weights_plot.weights_plot,
        window.weights_plot.grad_plot,
    ]
    return [plot for plot in plots if _shown(plot)]


def _scene_points(plot: pg.PlotItem) -> np.ndarray:
    """Scene coordinates (n×2) of every finite data point drawn inside the plot's view."""
    view = plot.getViewBox()
    transform = view.childGroup.sceneTransform()
    points = []
    for item in plot.listDataItems():
        if not item.isVisible():
            continue
        if isinstance(item, pg.ScatterPlotItem):
            x, y = item.data["x"], item.data["y"]
        else:
            x, y = item.getData()
        if x is None or y is None or not len(x):
            continue
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        points.append(np.column_stack([x[ok], y[ok]]))
    for item in plot.items:
        if isinstance(item, pg.InfiniteLine) and item.isVisible() and item.angle == 0:
            (x0, x1), _ = view.viewRange()
            xs = np.linspace(x0, x1, 200)
            points.append(np.column_stack([xs, np.full(xs.size, item.value())]))
    if not points:
        return np.empty((0, 2))
    data = np.concatenate(points)
    sx = transform.m11() * data[:, 0] + transform.m21() * data[:, 1] + transform.dx()
    sy = transform.m12() * data[:, 0] + transform.m22() * data[:, 1] + transform.dy()
    inside = view.sceneBoundingRect()
    shown = (sx >= inside.left()) & (sx <= inside.right()) & (sy >= inside.top()) & (sy <= inside.bottom())
    return np.column_stack([sx[shown], sy[shown]])


def _legend_rect(legend: pg.LegendItem) -> QRectF:
    return legend.sceneBoundingRect().adjusted(1, 1, -1, -1)


def _legends(window) -> list[tuple[pg.LegendItem, list[pg.PlotItem]]]:  # type: ignore[no-untyped-def]
    """Each legend with every plot it could cover (its own and those of the same panel)."""
    training = window.training_plot
    return [
        (window.gradient_plot.getPlotItem().legend, [window.gradient_plot.getPlotItem()]),
        (training.grad_plot.legend, [training.grad_plot, training.loss_plot]),
        (training.loss_plot.legend, [training.grad_plot, training.loss_plot]),
    ]


def _data_under_legends(window) -> list[str]:  # type: ignore[no-untyped-def]
    found = []
    for legend, plots in _legends(window):
        if legend is None or not legend.isVisible() or not legend.items or not _shown(plots[0]):
            continue
        rect = _legend_rect(legend)
        for plot in plots:
            points = _scene_points(plot)
            under = [(x, y) for x, y in points if rect.contains(QPointF(x, y))]
            if under:
                found.append(f"{len(under)} data points under the legend {[lab.text for _, lab in legend.items]}")
    return found


def _label_fits(label: QLabel) -> bool:
    text = label.text()
    if not text or not label.isVisible() or label.textFormat() == Qt.TextFormat.RichText:
        return True
    metrics = QFontMetricsF(label.font())
    room = label.contentsRect()
    if label.wordWrap():
        needed = metrics.boundingRect(QRectF(room), Qt.TextFlag.TextWordWrap, text)
        return needed.height() <= room.height() + 1
    widest = max(metrics.horizontalAdvance(line) for line in text.split("\n"))
    return widest <= room.width() + 1


def _cut_texts(window) -> list[str]:  # type: ignore[no-untyped-def]
    found = []
    for area in (window.plots_area, window.caption):
        for label in area.findChildren(QLabel):
            if not _label_fits(label):
                found.append(f"label {label.objectName() or ''} {label.text()!r} does not fit {label.size()}")
    for plot in _plot_items(window):
        title = plot.titleLabel
        if title.isVisible() and title.text:
            text = title.item.toPlainText()
            width = QFontMetricsF(title.item.font()).horizontalAdvance(text)
            if width > title.geometry().width() + 1:
                found.append(f"title {text!r} ({width:.0f} px) cut to {title.geometry().width():.0f} px")
        widget_rect = plot.scene().sceneRect() if plot.scene() is not None else None
        views = plot.scene().views() if plot.scene() is not None else []
        if views:
            widget_rect = QRectF(views[0].mapToScene(views[0].viewport().rect()).boundingRect())
        legend = plot.legend
        if legend is not None and widget_rect is not None:
            for _, label in legend.items:
                rect = label.item.sceneBoundingRect()
                if not widget_rect.adjusted(-1, -1, 1, 1).contains(rect):
                    found.append(f"legend entry {label.text!r} cut off")
                if not legend.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(rect):
                    found.append(f"legend entry {label.text!r} outside its legend")
    return found


def _axis_problems(window) -> list[str]:  # type: ignore[no-untyped-def]
    found = []
    for plot in _plot_items(window):
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            if not axis.isVisible():
                continue
            texts = drawn_tick_labels(axis)
            for (a, text_a), (b, text_b) in itertools.combinations(texts, 2):
                if a.adjusted(1, 1, -1, -1).intersects(b.adjusted(1, 1, -1, -1)):
                    found.append(f"tick labels {text_a!r} and {text_b!r} overlap on {name} axis")
            if axis.label.isVisible() and axis.labelText:
                title = axis.label.mapRectToItem(axis, axis.label.boundingRect())
                title = title.adjusted(2, 2, -2, -2)
                for rect, text in texts:
                    if rect.intersects(title):
                        found.append(f"axis title {axis.labelText!r} overlaps tick label {text!r}")
            if name == "left" and plot in _decade_plots(window):
                decades = sorted({d for d in (_decade(text) for _, text in texts) if d is not None})
                if len(decades) < 3:
                    found.append(f"decade axis '{axis.labelText}' labels {len(decades)} decades: {decades}")
                small = [text for _, text in texts if _SUPERSCRIPTS.search(text)]
                if small:
                    found.append(f"decade axis '{axis.labelText}' writes its exponents small: {small}")
    return found


_SUPERSCRIPTS = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _decade(text: str) -> int | None:
    """The whole decade a tick label names ("1e-5", "10⁻⁵", "1e+05"), else None."""
    text = text.strip()
    match = re.fullmatch(r"1(?:\.0*)?e([+-]?\d+)", text)
    if match:
        return int(match.group(1))
    if text.startswith("10") and len(text) > 2 and _SUPERSCRIPTS.fullmatch(text[2]):
        try:
            return int(text[2:].translate(_SUPERSCRIPT_DIGITS))
        except ValueError:
            return None
    return None


def _decade_plots(window) -> list[pg.PlotItem]:  # type: ignore[no-untyped-def]
    """The plots whose y axis is in decades (log10 values)."""
    return [window.gradient_plot.getPlotItem(), window.training_plot.grad_plot, window.training_plot.loss_plot]


def _pages(window):  # type: ignore[no-untyped-def]
    """Each arrangement the plots area can show: the grid as it is laid out, or, where it is laid
    out compactly, each tab of its right column in turn (yields the page's name)."""
    grid = window.grid
    if not grid.compact:
        yield "grid"
        return
    for index in range(grid.tabs.count()):
        grid.tabs.setCurrentIndex(index)
        QApplication.processEvents()
        yield f"tab {grid.tabs.tabText(index)}"


# The main picture stays usable at every size: its data area takes this share of the plots area
# at least, and has at least these many pixels (three labelled decades and a slope to read).
MAIN_PLOT_MIN_SHARE = (0.4, 0.22)  # of the plots area's width, height
MAIN_PLOT_MIN_PX = (360, 120)


def _main_plot_problems(window) -> list[str]:  # type: ignore[no-untyped-def]
    view = window.gradient_plot.getPlotItem().getViewBox().geometry()
    area = window.grid.size()
    width, height = view.width(), view.height()
    low_width = max(MAIN_PLOT_MIN_PX[0], MAIN_PLOT_MIN_SHARE[0] * area.width())
    low_height = max(MAIN_PLOT_MIN_PX[1], MAIN_PLOT_MIN_SHARE[1] * area.height())
    if width < low_width or height < low_height:
        return [
            f"the gradient plot's data area is {width:.0f}×{height:.0f} px in a plots area of"
            f" {area.width()}×{area.height()} (at least {low_width:.0f}×{low_height:.0f} wanted)"
        ]
    return []


def _panel_geometry(window) -> list[tuple[int, int, int, int]]:  # type: ignore[no-untyped-def]
    rects = []
    for widget in (window.gradient_plot, window.spectrum_plot, window.training_plot, window.weights_plot):
        r = widget.geometry()
        rects.append((r.x(), r.y(), r.width(), r.height()))
    for plot in _plot_items(window):
        g = plot.getViewBox().geometry()
        rects.append((round(g.x()), round(g.y()), round(g.width()), round(g.height())))
    return rects


def _settled_geometry(window, qtbot) -> list[tuple[int, int, int, int]]:  # type: ignore[no-untyped-def]
    """The panels' geometry once the layout has settled (two looks in a row agree)."""
    looks = [_panel_geometry(window)]

    def settled() -> bool:
        QApplication.processEvents()
        looks.append(_panel_geometry(window))
        return looks[-1] == looks[-2]

    qtbot.wait(100)
    qtbot.waitUntil(settled, timeout=PATIENCE_MS)
    return looks[-1]


def _plots_inside_their_widgets(window) -> list[str]:  # type: ignore[no-untyped-def]
    found = []
    for plot in _plot_items(window):
        view = plot.scene().views()[0]
        visible = QRectF(view.mapToScene(view.viewport().rect()).boundingRect()).adjusted(-1, -1, 1, 1)
        if not visible.contains(plot.sceneBoundingRect()):
            found.append(f"plot {plot.titleLabel.text!r} is wider or taller than its panel")
    return found


# ---- the audit --------------------------------------------------------------------------------
def _audit(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    if window.grid.arrangement == "tabs":
        window.grid.tabs.setCurrentWidget(window.gradient_plot)
        qtbot.wait(100)
    problems = _main_plot_problems(window)
    for page in _pages(window):
        problems += [f"{page}: {p}" for p in _page_problems(window, qtbot)]
    assert not problems, "\n".join(dict.fromkeys(problems))


def _page_problems(window, qtbot) -> list[str]:  # type: ignore[no-untyped-def]
    qtbot.wait(100)  # a page just shown lays out its plots and legends
    QApplication.processEvents()
    problems = _data_under_legends(window) + _cut_texts(window) + _axis_problems(window)
    problems += _plots_inside_their_widgets(window)

    # The longest titles the plots can show: the panels keep their sizes, the titles still fit.
    # Compared with the same frame shown the same way (cleared, then drawn: a frame whose
    # eigenvalues are nan keeps no view of its own, so a cleared spectrum differs from a live one).
    frame = window.session.latest_frame
    assert frame is not None
    window.spectrum_plot.clear()
    window.spectrum_plot.show_frame(frame)
    window.weights_plot.show_frame(frame)
    before = _settled_geometry(window, qtbot)
    crowded = dataclasses.replace(
        frame,
        w_hh_hist=dataclasses.replace(frame.w_hh_hist, outside=12, nonfinite=4096),
        grad_w_hh_hist=dataclasses.replace(frame.grad_w_hh_hist, outside=4096, nonfinite=4096),
        spectrum_block="W_hg (cell candidate)",
    )
    window.weights_plot.show_frame(crowded)
    window.spectrum_plot.clear()
    window.spectrum_plot.show_frame(crowded)
    if _settled_geometry(window, qtbot) != before:
        problems.append("a long title resized a panel")
    problems += [p for p in _cut_texts(window) if p.startswith("title")]
    problems += _plots_inside_their_widgets(window)
    window.weights_plot.show_frame(frame)
    window.spectrum_plot.clear()
    window.spectrum_plot.show_frame(frame)
    return problems


@pytest.mark.parametrize("scene_window", _combinations(), indirect=True, ids=_case_id)
def test_every_scene_is_legible(scene_window, qtbot):  # type: ignore[no-untyped-def]
    _audit(scene_window, qtbot)


@pytest.mark.slow
@pytest.mark.parametrize("scene_window", _every_combination(), indirect=True, ids=_case_id)
def test_every_scene_is_legible_in_every_combination(scene_window, qtbot):  # type: ignore[no-untyped-def]
    """The same audit on the cases the fast run leaves out (every scene at every size, font,
    theme, with and without the controls: about twenty minutes)."""
    _audit(scene_window, qtbot)


def test_the_decade_labels_are_written_in_full_size_digits():
    from gradlab.ui.axes import decade_label

    assert decade_label(-30) == "1e-30"
    assert decade_label(0) == "1e0"
    assert decade_label(12) == "1e12"
    assert not any(ch in decade_label(-5) for ch in "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
    assert math.isclose(float(decade_label(3.5)), 10**3.5, rel_tol=0.02)
