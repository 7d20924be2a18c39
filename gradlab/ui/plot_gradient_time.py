"""The main plot: log10 ‖∂L/∂h_t‖ against steps back from the loss, with the theory that predicts
it and the bound that limits it.

The latest update is drawn bright and the few before it fade out. Steps whose norm is exactly
zero are marked on the bottom edge (told apart: underflow, or beyond the truncation window), inf
and nan on the top edge, so no step is silently missing from the curve. Pinned runs stay as dashed
ghosts. The predicted curve (``Frame.predicted_log10_dh``: mean field, unit paths, log10 ρ or the
gate product, labelled by ``Frame.predicted_kind``) is a wide light band under the latest curve:
where theory and measurement agree the measured line runs inside it. When an update is non-finite
at every step (a run that blew up), the last finite update stays drawn bright with its slope,
prediction and bound, and the blow-up is marked on top as an event.
The legend has a row of its own above the data (``legend_above``): no curve can pass under it.

Drawing cost matters here (every frame repaints the whole plot area): the fading curves are
one pixel wide and opaque (colour pre-mixed with the background), the latest curve is not
antialiased, markers are only touched when they change, and ghosts are cached as pixmaps.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QGraphicsItem, QWidget

from gradlab.core import Config, Frame
from gradlab.core.prediction import (
    KIND_CELL_PATH,
    KIND_LINEAR,
    KIND_MEAN_FIELD,
    KIND_MEAN_FIELD_OR_MODE,
    KIND_UNIT_PATH,
    KIND_UPDATE_PATH,
)
from gradlab.ui.pins import Pin
from gradlab.ui.plot_common import (
    DecadeAxis,
    FittingAxis,
    Legend,
    ZoomReset,
    finite_or_nan,
    fit_legend,
    format_number,
    legend_above,
    legend_columns,
)
from gradlab.ui.theme import Theme

PREVIOUS_CURVES = 5
LEGEND_REFRESH_S = 0.25
LATEST = "latest"
THEORY = "theory bound"
# The legend's wordings, longest first (see ``_fit_legend``): a row of entries more would take a
# row of the data's height, which a short plot (1280×720, large fonts) cannot spare.
LEGEND_LEVELS = 4
SHORT_KINDS = {
    KIND_MEAN_FIELD: "mean field",
    KIND_MEAN_FIELD_OR_MODE: "max(mean field, ρ)",
    KIND_LINEAR: "log10 ρ",
    KIND_UNIT_PATH: "unit paths",
    KIND_CELL_PATH: "Π f",
    KIND_UPDATE_PATH: "Π z",
}


class GradientTimePlot(pg.PlotWidget):
    """Gradient norm through time for the latest update and a few previous ones."""

    _legend: Legend  # built in __init__; resizeEvent can come before it

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, axisItems={"left": DecadeAxis("left"), "bottom": FittingAxis("bottom")})
        self._theme = theme
        plot = self.getPlotItem()
        plot.setLabel("left", "‖∂L/∂hₜ‖")
        plot.setLabel("bottom", "steps back from the loss, k")
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.enableAutoRange(x=False, y=False)

        self._previous_curves = [plot.plot() for _ in range(PREVIOUS_CURVES)]
        self._previous_y: deque[np.ndarray] = deque(maxlen=PREVIOUS_CURVES)
        self._theory_curve = plot.plot(antialias=True)  # two points: antialiasing is free
        self.prediction_curve = plot.plot()
        self.prediction_curve.setZValue(7)  # under the measured curves: a band they run inside
        self._cell_curve = plot.plot()
        self.latest_curve = plot.plot()
        self.zero_markers = pg.ScatterPlotItem()
        self.truncated_markers = pg.ScatterPlotItem()
        self.inf_markers = pg.ScatterPlotItem()
        self.nan_markers = pg.ScatterPlotItem()
        for item in (self.zero_markers, self.truncated_markers, self.inf_markers, self.nan_markers):
            plot.addItem(item)
            item.setZValue(20)
        self.latest_curve.setZValue(10)
        self._cell_curve.setZValue(9)
        self._marker_x: dict[pg.ScatterPlotItem, tuple[np.ndarray, float]] = {}

        self._legend = legend_above(plot)
        self._legend.addItem(self.latest_curve, LATEST)
        self._legend.addItem(self._theory_curve, THEORY)
        self._marker_names = {
            self.zero_markers: "exactly 0 (underflow)",
            self.truncated_markers: "0 (truncated)",
            self.inf_markers: "inf",
            self.nan_markers: "nan",
        }
        self._in_legend: set[pg.ScatterPlotItem] = set()
        self._cell_in_legend = False
        self._prediction_in_legend = False
        self._legend_texts: dict[int, str] = {}  # what each entry shows now
        self._legend_variants: dict[int, tuple[str, ...]] = {}  # its wordings, LEGEND_LEVELS of them

        self.pin_curves: list[pg.PlotDataItem] = []
        self._pins: tuple[Pin, ...] = ()
        self._pin_limits: tuple[float, float] | None = None
        self._pin_steps = 0

        self._pending_slope: tuple[str, ...] = ()
        self._pending_prediction: tuple[str, ...] = ()
        self._slope_timer = QTimer(self)
        self._slope_timer.setSingleShot(True)
        self._slope_timer.timeout.connect(self._flush_slope)
        self._x = np.empty(0)
        self._steps = 0
        self._legend_refreshed = 0.0
        self._y_limits: tuple[float, float] | None = None
        self._x_len = -1
        self._data_limits: tuple[float, float] | None = None
        self._truncation: int | None = None
        self._last_finite_iteration = 0
        self._last_slope = math.nan
        self._last_predicted_slope = math.nan
        self.zoom_reset = ZoomReset(self, plot, self._restore_view)
        self.apply_theme(theme)

    # ---- look -------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        plot = self.getPlotItem()
        theme.style_plot(plot, title="Gradient through time", y_grid=True)
        self._history_pens = [
            theme.pen("history", width=1.0, colour=theme.faded("history", 0.35 + 0.55 * age / PREVIOUS_CURVES))
            for age in range(PREVIOUS_CURVES)
        ]
        self._pen_history_curves()
        self.latest_curve.setPen(theme.pen("latest"))
        self._cell_curve.setPen(theme.pen("cell_state", width=theme.line_width * 0.7))
        self._theory_curve.setPen(theme.pen("theory", width=theme.line_width * 0.8, dashed=True))
        self.prediction_curve.setPen(
            # Lighter than the measured line on white; on black a faded orange turns brown and dim.
            theme.pen(
                "prediction",
                width=theme.line_width * 2.2,
                colour=theme.faded("prediction", 0.2 if theme.dark else 0.45),
            )
        )
        size = theme.px(theme.marker_size)
        self.zero_markers.setSymbol("t")  # triangle pointing down: fell off the bottom
        self.zero_markers.setSize(size)
        self.zero_markers.setBrush(pg.mkBrush(theme.colour("zero_marker")))
        self.zero_markers.setPen(pg.mkPen(theme.foreground, width=1))
        self.truncated_markers.setSymbol("t")
        self.truncated_markers.setSize(size * 0.8)
        self.truncated_markers.setBrush(pg.mkBrush(theme.colour("baseline")))
        self.truncated_markers.setPen(pg.mkPen(theme.foreground, width=1))
        self.inf_markers.setSymbol("t1")  # triangle pointing up: went off the top
        self.inf_markers.setSize(size)
        self.inf_markers.setBrush(pg.mkBrush(theme.colour("inf_marker")))
        self.inf_markers.setPen(pg.mkPen(theme.foreground, width=1))
        self.nan_markers.setSymbol("x")
        self.nan_markers.setSize(size * 1.1)
        self.nan_markers.setBrush(pg.mkBrush(theme.colour("nan_marker")))
        self.nan_markers.setPen(pg.mkPen(theme.colour("nan_marker"), width=1))
        for pin, curve in zip(self._pins, self.pin_curves):
            curve.setPen(theme.pin_pen(pin.slot))
        theme.style_legend(self._legend)
        self._fit_legend()

    def _pen_history_curves(self) -> None:
        for age, curve in enumerate(self._previous_curves):
            curve.setPen(self._history_pens[age])
            curve.setZValue(8 - age * 0.1)  # younger curves on top

    def apply_legend_fonts(self) -> None:
        self._theme.style_legend(self._legend)
        self._fit_legend()

    # ---- data -------------------------------------------------------------------------------
    def clear_history(self) -> None:
        """Forget the fading curves (a new run started)."""
        self._previous_y.clear()
        self._legend_refreshed = 0.0
        self._last_finite_iteration = 0
        for curve in self._previous_curves:
            curve.setData([], [])
        self.zoom_reset.reset()

    def show_frame(self, frame: Frame, config: Config | None = None) -> None:
        """Draw ``frame``; ``config`` (the run's) tells truncated zeros from underflow."""
        if config is not None:
            self._truncation = config.truncation
        log10_norm = np.asarray(frame.log10_dh_norm, dtype=np.float64)
        steps = log10_norm.size
        if steps != self._x.size:
            self._x = np.arange(steps, dtype=np.float64)
            self.clear_history()
        self._steps = steps
        y = finite_or_nan(log10_norm)
        if self._last_finite_iteration and not np.isfinite(y).any():
            # Blown up at every step: the story is the last finite update's line, which stays
            # bright with its slope and bound; the blow-up is an event marked on top.
            self._update_markers(log10_norm, None, *self._update_y_range())
            self._set_legend_text(
                self.nan_markers if np.isnan(log10_norm).any() else self.inf_markers,
                f"update {frame.iteration}: {_nonfinite_word(log10_norm)} at every step",
            )
            # The predicted band stays too: it belongs to the update whose curve is still drawn.
            measured = f"update {self._last_finite_iteration} (last finite) · slope {slope_text(self._last_slope)}"
            self._pending_slope = (measured + predicted_suffix(self._last_predicted_slope),) + (measured,) * 3
            self._flush_slope()
            return
        if np.isfinite(y).any():
            self._last_finite_iteration = frame.iteration
            self._last_slope = frame.fitted_slope
            self._last_predicted_slope = frame.predicted_slope if frame.predicted_log10_dh is not None else math.nan

        # Fading history: the previous latest curve becomes the first faded one. Rather than
        # moving every curve's data one place along (five path rebuilds), the oldest item takes
        # the new data and every item gets the pen of its new age.
        latest_before = self.latest_curve.yData
        if latest_before is not None and len(latest_before) == steps:
            recycled = self._previous_curves.pop()
            recycled.setData(self._x, np.asarray(latest_before), connect="finite")
            self._previous_curves.insert(0, recycled)
            self._previous_y.appendleft(np.asarray(latest_before))
            self._pen_history_curves()
        self.latest_curve.setData(self._x, y, connect="finite")

        cell_state = frame.log10_dc_norm
        if cell_state is not None:
            cell_y = finite_or_nan(np.asarray(cell_state, dtype=np.float64))
            self._cell_curve.setData(self._x, cell_y, connect="finite")
        else:
            cell_y = None
            if self._cell_curve.yData is not None and len(self._cell_curve.yData):
                self._cell_curve.setData([], [])
        self._set_cell_legend(cell_state is not None)

        finite = y[np.isfinite(y)]
        if cell_y is not None:
            finite = np.concatenate([finite, cell_y[np.isfinite(cell_y)]])
        self._data_limits = (float(finite.min()), float(finite.max())) if finite.size else None
        low, high = self._update_y_range()
        self._update_x_range()
        self._update_theory(frame, log10_norm)
        predicted = self._update_prediction(frame)
        self._update_markers(log10_norm, cell_state, low, high)
        for item in (self.inf_markers, self.nan_markers):
            self._set_legend_text(item, self._marker_names[item])
        measured = f"{LATEST} · slope {slope_text(frame.fitted_slope)}"
        self._pending_slope = (
            measured + predicted_suffix(predicted),
            measured,
            measured,
            f"slope {slope_text(frame.fitted_slope)}",
        )
        now = time.monotonic()
        if now - self._legend_refreshed >= LEGEND_REFRESH_S:
            # Re-laying out the legend costs a frame's worth of time; a number that changes
            # every update is unreadable at 60 Hz anyway. The last value always shows (timer).
            self._flush_slope()
        elif not self._slope_timer.isActive():
            self._slope_timer.start(int(LEGEND_REFRESH_S * 1000))

    def _flush_slope(self) -> None:
        self._legend_refreshed = time.monotonic()
        if self._pending_prediction and self._prediction_in_legend:
            self._set_prediction_legend(self._pending_prediction)
        self._pending_prediction = ()
        if self._pending_slope:
            self._set_legend_text(self.latest_curve, self._pending_slope)

    # ---- pins -------------------------------------------------------------------------------
    def set_pins(self, pins: Sequence[Pin], live: Config) -> None:
        """Show ``pins`` as ghost curves labelled by what differs from ``live``."""
        plot = self.getPlotItem()
        pins = tuple(pins)
        if [id(p) for p in pins] != [id(p) for p in self._pins]:
            for curve in self.pin_curves:
                self._legend.removeItem(curve)
                plot.removeItem(curve)
            self.pin_curves = []
            lows, highs, steps = [], [], 0
            for pin in pins:
                y = finite_or_nan(pin.log10_dh_norm)
                x = np.arange(y.size, dtype=np.float64)
                curve = pg.PlotDataItem(x, y, connect="finite", pen=self._theme.pin_pen(pin.slot))
                # A ghost never changes: paint it once into a pixmap, then only blit it.
                curve.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                curve.setZValue(5)
                plot.addItem(curve)
                self._legend.addItem(curve, "")
                self._legend_texts.pop(id(curve), None)
                self._legend_variants.pop(id(curve), None)
                self.pin_curves.append(curve)
                finite = y[np.isfinite(y)]
                if finite.size:
                    lows.append(float(finite.min()))
                    highs.append(float(finite.max()))
                steps = max(steps, y.size)
            self._pins = pins
            self._pin_limits = (min(lows), max(highs)) if lows else None
            self._pin_steps = steps
            self._update_y_range()
            self._update_x_range()
        for pin, curve in zip(self._pins, self.pin_curves):
            self._set_legend_text(curve, f"pinned · {pin.label(live)}")
        self._legend_changed()

    def pin_labels(self) -> list[str]:
        return [self._legend_texts.get(id(curve), "") for curve in self.pin_curves]

    # ---- ranges -----------------------------------------------------------------------------
    def _update_x_range(self) -> None:
        steps = max(self._steps, self._pin_steps)
        if steps != self._x_len and not self.zoom_reset.zoomed:
            self._x_len = steps
            self.getPlotItem().setXRange(0, max(1, steps - 1), padding=0.02)

    def _update_y_range(self) -> tuple[float, float]:
        """Whole-decade limits around the finite data; only moves when the data outgrows them."""
        bounds = [b for b in (self._data_limits, self._pin_limits) if b is not None]
        if not bounds and self._y_limits is not None:
            # Nothing finite to show (all inf/nan): keep the view, so the fading curves of the
            # updates before the blow-up stay in sight.
            return self._y_limits
        if bounds:
            low = math.floor(min(b[0] for b in bounds))
            high = math.ceil(max(b[1] for b in bounds))
        else:
            low, high = -1, 1
        if high - low < 2:
            # At least three whole decades in view, each labelled.
            middle = (low + high) / 2
            low, high = math.floor(middle - 1), math.ceil(middle + 1)
        current = self._y_limits
        if (
            current is not None
            and current[0] <= low
            and high <= current[1]
            and (high - low) >= 0.7 * (current[1] - current[0])
        ):
            # Still a good fit: moving the view by a decade every few frames would repaint the
            # axes each time and make the picture jump.
            return current
        margin = 0
        limits = (float(low - margin), float(high + margin))
        if limits != self._y_limits:
            self._y_limits = limits
            self._set_y_view(limits)
        return limits

    def _set_y_view(self, limits: tuple[float, float]) -> None:
        low, high = limits
        span = high - low
        # Room outside the data for the edge markers (the legend has a row of its own).
        if not self.zoom_reset.zoomed:
            self.getPlotItem().setYRange(low - 0.08 * span, high + 0.08 * span, padding=0)

    def _restore_view(self) -> None:
        """The view this plot chose itself (after a mouse zoom is undone)."""
        self._x_len = -1
        self._update_x_range()
        if self._y_limits is not None:
            self._set_y_view(self._y_limits)

    def _update_theory(self, frame: Frame, log10_norm: np.ndarray) -> None:
        slope = frame.theory_slope
        finite_steps = np.flatnonzero(np.isfinite(log10_norm))
        if math.isfinite(slope) and finite_steps.size:
            anchor = int(finite_steps[0])
            ks = np.array([anchor, log10_norm.size - 1], dtype=np.float64)
            self._theory_curve.setData(ks, log10_norm[anchor] + slope * (ks - anchor))
            text: str | tuple[str, ...] = (f"bound γσₘₐₓ: {slope_text(slope)}",) * 2 + (
                f"bound: {slope_text(slope)}",
                f"bound {slope_text(slope)}",
            )
        else:
            if self._theory_curve.yData is not None and len(self._theory_curve.yData):
                self._theory_curve.setData([], [])
            text = f"{THEORY} · n/a for gated cells" if math.isnan(frame.gamma) else f"{THEORY} · n/a"
        self._set_legend_text(self._theory_curve, text)

    def _update_prediction(self, frame: Frame) -> float:
        """Draw the frame's predicted curve (nothing, and no legend entry, where the frame has none
        or none of it is finite); returns its slope for the readout, nan when nothing is drawn."""
        predicted = frame.predicted_log10_dh
        y = None
        if predicted is not None and len(predicted) == self._x.size:
            y = finite_or_nan(np.asarray(predicted, dtype=np.float64))
            if not np.isfinite(y).any():
                y = None
        if y is None:
            if self.prediction_curve.yData is not None and len(self.prediction_curve.yData):
                self.prediction_curve.setData([], [])
            self._set_prediction_legend(None)
            return math.nan
        self.prediction_curve.setData(self._x, y, connect="finite")
        labels = prediction_labels(frame.predicted_kind, frame.predicted_slope)
        if self._prediction_in_legend:
            self._pending_prediction = labels  # its slope changes every update: shown with the latest's
        else:
            self._set_prediction_legend(labels)
        return frame.predicted_slope

    def _legend_changed(self) -> None:
        """An entry came or went: restyle, and make the strip above the data fit the rows."""
        self._theme.style_legend(self._legend)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """The longest wordings that need no more rows than the shortest ones, in as many columns
        as fit the plot's width (large fonts, long labels, a narrow window)."""
        plot = self.getPlotItem()
        if plot is None:  # closed
            return
        # The data area's width once the plot fits the widget: a legend wider than that holds the
        # plot item wider than the widget (its minimum width), so the view box's own width can lag.
        width = min(plot.getViewBox().width(), self.viewport().width() - (plot.width() - plot.getViewBox().width()))
        items = self._legend.items
        if items and width > 0:
            metrics = QFontMetricsF(self._theme.font(self._theme.axis_font_pt))
            # Each entry's width beside its text (sample, margins), from how it is drawn now.
            beside = [
                sample.width() + label.item.boundingRect().width() - metrics.horizontalAdvance(label.text) + 6
                for sample, label in items
            ]
            wordings = [
                self._legend_variants.get(id(sample.item), (label.text,) * LEGEND_LEVELS) for sample, label in items
            ]

            def rows(level: int) -> int:
                widths = [b + metrics.horizontalAdvance(w[level]) for b, w in zip(beside, wordings)]
                return math.ceil(len(widths) / legend_columns(widths, width))

            fewest = rows(LEGEND_LEVELS - 1)
            level = next(level for level in range(LEGEND_LEVELS) if rows(level) <= fewest)
            for (sample, _), words in zip(items, wordings):
                self._show_legend_text(sample.item, words[level])
        fit_legend(self._legend, width)
        if plot.width() > self.viewport().width() + 0.5:
            # Held wider than the widget by the legend's old width: fit the widget again once the
            # legend has laid out its new columns.
            QTimer.singleShot(0, self._fit_plot_to_view)

    def _fit_plot_to_view(self) -> None:
        plot = self.getPlotItem()
        # Queued: the window may have closed meanwhile, its plot item gone with its scene.
        with contextlib.suppress(RuntimeError):
            if plot is not None and plot.width() > self.viewport().width() + 0.5:
                plot.setGeometry(self.range)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_legend") and self.getPlotItem() is not None:  # also resized while built or closed
            self._fit_legend()
        if hasattr(self, "zoom_reset"):
            self.zoom_reset.place()

    def _update_markers(self, log10_norm: np.ndarray, cell_state: np.ndarray | None, low: float, high: float) -> None:
        span = high - low
        bottom, top = low - 0.06 * span, high + 0.06 * span
        values = log10_norm if cell_state is None else np.concatenate([log10_norm, cell_state])
        steps = np.tile(self._x, 1 if cell_state is None else 2)
        zero = np.isneginf(values)
        # Steps beyond the truncation window get no gradient by construction: not an underflow.
        beyond = steps >= self._truncation if self._truncation is not None else np.zeros(steps.size, bool)
        for item, mask, level in (
            (self.zero_markers, zero & ~beyond, bottom),
            (self.truncated_markers, zero & beyond, bottom),
            (self.inf_markers, np.isposinf(values), top),
            (self.nan_markers, np.isnan(values), top),
        ):
            xs = np.unique(steps[mask])
            previous = self._marker_x.get(item)
            if previous is None or previous[1] != level or not np.array_equal(previous[0], xs):
                # Setting a scatter's data is slow in pyqtgraph: only when the markers moved.
                self._marker_x[item] = (xs, level)
                item.setData(x=xs, y=np.full(xs.size, level))
            self._set_marker_legend(item, bool(xs.size))

    # ---- legend bookkeeping (entries appear only while they mean something) ------------------
    def _set_marker_legend(self, item: pg.ScatterPlotItem, present: bool) -> None:
        if present and item not in self._in_legend:
            self._legend.addItem(item, self._marker_names[item])
            self._in_legend.add(item)
            self._legend_changed()
        elif not present and item in self._in_legend:
            self._legend.removeItem(item)
            self._in_legend.discard(item)
            self._legend_changed()

    def _set_cell_legend(self, present: bool) -> None:
        if present and not self._cell_in_legend:
            self._legend.addItem(self._cell_curve, "‖∂L/∂cₜ‖ (cell state)")
            self._cell_in_legend = True
            self._legend_changed()
        elif not present and self._cell_in_legend:
            self._legend.removeItem(self._cell_curve)
            self._cell_in_legend = False
            self._legend_changed()

    def _set_prediction_legend(self, labels: tuple[str, ...] | None) -> None:
        """The predicted curve's entry, right after the latest curve's (before the bound), while
        there is a curve to explain."""
        if labels is not None and not self._prediction_in_legend:
            theory_text = self._legend_texts.get(id(self._theory_curve), THEORY)
            self._legend.removeItem(self._theory_curve)
            self._legend.addItem(self.prediction_curve, labels[0])
            self._legend.addItem(self._theory_curve, theory_text)
            self._legend_texts[id(self.prediction_curve)] = labels[0]
            self._legend_variants[id(self.prediction_curve)] = labels
            self._prediction_in_legend = True
            self._legend_changed()
        elif labels is None and self._prediction_in_legend:
            self._legend.removeItem(self.prediction_curve)
            self._legend_texts.pop(id(self.prediction_curve), None)
            self._legend_variants.pop(id(self.prediction_curve), None)
            self._prediction_in_legend = False
            self._legend_changed()
        elif labels is not None:
            self._set_legend_text(self.prediction_curve, labels)

    def _set_legend_text(self, item: object, text: str | tuple[str, ...]) -> None:
        """Set an entry's text: one wording, or LEGEND_LEVELS of them, longest first."""
        variants = (text,) * LEGEND_LEVELS if isinstance(text, str) else tuple(text)
        if self._legend_variants.get(id(item)) == variants:
            return
        self._legend_variants[id(item)] = variants
        self._fit_legend()

    def _show_legend_text(self, item: object, text: str) -> None:
        if self._legend_texts.get(id(item)) == text:
            return
        self._legend_texts[id(item)] = text
        for sample, label in self._legend.items:
            if sample.item is item:
                label.setText(text)
                break

    def legend_text(self) -> list[str]:
        """The legend's current entries (for tests and screenshots)."""
        return [label.text for _, label in self._legend.items]


def slope_text(value: float) -> str:
    if not math.isfinite(value):
        return format_number(value)
    return f"{value:+.3f}/step"  # decades per step: the axis is in decades


def predicted_suffix(value: float) -> str:
    """ " (predicted -0.210)" after the measured slope; "" without a prediction."""
    if not math.isfinite(value):
        return ""
    return f" (predicted {value:+.3f})"


def prediction_labels(kind: str, slope: float) -> tuple[str, ...]:
    """The legend's wordings for the predicted curve (LEGEND_LEVELS, longest first): what theory
    it is, and its slope where the latest curve's entry has no room to say it."""
    full = kind or "predicted"
    short = SHORT_KINDS.get(kind, "predicted")
    return (
        f"predicted: {full}",
        f"{full}: {slope_text(slope)}",
        f"{short}: {slope_text(slope)}",
        f"predicted {slope_text(slope)}",
    )


def _nonfinite_word(values: np.ndarray) -> str:
    if np.isnan(values).any():
        return "nan"
    return "inf" if np.isposinf(values).any() else "0"
