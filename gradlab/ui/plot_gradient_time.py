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
The legend has a row of its own above the data: no curve can pass under it. Its wordings and its
fitting are in ``gradient_time_legend``; the whole-decade limits and the edge markers in
``gradient_time_edges``.

Drawing cost matters here (every frame repaints the whole plot area): the fading curves are
one pixel wide and opaque (colour pre-mixed with the background), the latest curve is not
antialiased, markers are only touched when they change, and ghosts are cached as pixmaps.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGraphicsItem, QWidget

from gradlab.core import Config, Frame
from gradlab.ui.axes import DecadeAxis, FittingAxis
from gradlab.ui.gradient_time_edges import VIEW_MARGIN, EdgeMarkers, decade_limits
from gradlab.ui.gradient_time_legend import (
    LATEST,
    THEORY,
    WordedLegend,
    nonfinite_word,
    predicted_suffix,
    prediction_labels,
    slope_text,
)
from gradlab.ui.pins import Pin
from gradlab.ui.plot_common import Legend, ZoomReset, finite_or_nan
from gradlab.ui.theme import Theme
from gradlab.ui.throttle import Throttle

PREVIOUS_CURVES = 5
# Re-laying out the legend costs a frame's worth of time; a slope that changes every update is
# unreadable at 60 Hz anyway: at most this often, and the last one always shows.
LEGEND_REFRESH_MS = 250


class GradientTimePlot(pg.PlotWidget):
    """Gradient norm through time for the latest update and a few previous ones."""

    _entries: WordedLegend  # built in __init__; resizeEvent can come before it

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
        self._markers = EdgeMarkers(plot, self._set_marker_legend)
        self.zero_markers, self.truncated_markers = self._markers.zero, self._markers.truncated
        self.inf_markers, self.nan_markers = self._markers.inf, self._markers.nan
        self.latest_curve.setZValue(10)
        self._cell_curve.setZValue(9)

        self._entries = WordedLegend(self, theme)
        self._legend: Legend = self._entries.legend
        self._entries.add(self.latest_curve, LATEST)
        self._entries.add(self._theory_curve, THEORY)
        self._in_legend: set[pg.ScatterPlotItem] = set()
        self._cell_in_legend = False
        self._prediction_in_legend = False

        self.pin_curves: list[pg.PlotDataItem] = []
        self._pins: tuple[Pin, ...] = ()
        self._pin_limits: tuple[float, float] | None = None
        self._pin_steps = 0

        self._pending_slope: tuple[str, ...] = ()
        self._pending_prediction: tuple[str, ...] = ()
        self._slope_throttle = Throttle(LEGEND_REFRESH_MS, self._flush_slope, self)
        self._x = np.empty(0)
        self._steps = 0
        self._y_limits: tuple[float, float] | None = None
        self._x_len = -1
        self._data_limits: tuple[float, float] | None = None
        self._truncation: int | None = None
        self._last_finite_iteration = 0
        self._last_slope = math.nan
        self._last_predicted_slope = math.nan
        self._unit = "step"  # of the slopes: "layer" in depth mode
        self.zoom_reset = ZoomReset(self, plot, self._restore_view)
        self.apply_theme(theme)

    # ---- look -------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._entries.theme = theme
        self.setBackground(theme.background)
        plot = self.getPlotItem()
        theme.style_plot(plot, title=self._title(), y_grid=True)
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
        self._markers.apply_theme(theme)
        for pin, curve in zip(self._pins, self.pin_curves):
            curve.setPen(theme.pin_pen(pin.slot))
        self._entries.changed()

    def _pen_history_curves(self) -> None:
        for age, curve in enumerate(self._previous_curves):
            curve.setPen(self._history_pens[age])
            curve.setZValue(8 - age * 0.1)  # younger curves on top

    def apply_legend_fonts(self) -> None:
        self._entries.changed()

    # ---- data -------------------------------------------------------------------------------
    def clear_history(self) -> None:
        """Forget the fading curves (a new run started)."""
        self._previous_y.clear()
        self._slope_throttle.cancel()  # the new run's first slope shows at once
        self._last_finite_iteration = 0
        for curve in self._previous_curves:
            curve.setData([], [])
        self.zoom_reset.reset()

    def show_frame(self, frame: Frame, config: Config | None = None) -> None:
        """Draw ``frame``; ``config`` (the run's) tells truncated zeros from underflow."""
        if config is not None:
            self._truncation = config.truncation
            self._unit = "layer" if config.cell == "mlp" else "step"
            self._name_steps()
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
            self._markers.update(self._x, log10_norm, None, self._update_y_range(), self._truncation)
            self._entries.set_text(
                self.nan_markers if np.isnan(log10_norm).any() else self.inf_markers,
                f"update {frame.iteration}: {nonfinite_word(log10_norm)} at every {self._unit}",
            )
            # The predicted band stays too: it belongs to the update whose curve is still drawn.
            last_slope = slope_text(self._last_slope, self._unit)
            measured = f"update {self._last_finite_iteration} (last finite) · slope {last_slope}"
            short = f"update {self._last_finite_iteration}: {last_slope}"  # the nan entry says what came after
            self._pending_slope = (measured + predicted_suffix(self._last_predicted_slope), measured, measured, short)
            self._slope_throttle.flush()
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
        limits = self._update_y_range()
        self._update_x_range()
        self._update_theory(frame, log10_norm)
        predicted = self._update_prediction(frame)
        self._markers.update(self._x, log10_norm, cell_state, limits, self._truncation)
        for item in (self.inf_markers, self.nan_markers):
            self._entries.set_text(item, self._markers.names[item])
        measured = f"{LATEST} · slope {slope_text(frame.fitted_slope, self._unit)}"
        self._pending_slope = (
            measured + predicted_suffix(predicted),
            measured,
            measured,
            f"slope {slope_text(frame.fitted_slope, self._unit)}",
        )
        self._slope_throttle.request()

    def _flush_slope(self) -> None:
        if self._pending_prediction and self._prediction_in_legend:
            self._set_prediction_legend(self._pending_prediction)
        self._pending_prediction = ()
        if self._pending_slope:
            self._entries.set_text(self.latest_curve, self._pending_slope)

    # ---- pins -------------------------------------------------------------------------------
    def set_pins(self, pins: Sequence[Pin], live: Config) -> None:
        """Show ``pins`` as ghost curves labelled by what differs from ``live``."""
        plot = self.getPlotItem()
        pins = tuple(pins)
        if [id(p) for p in pins] != [id(p) for p in self._pins]:
            for curve in self.pin_curves:
                self._entries.remove(curve)
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
                self._entries.add_new(curve, "")
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
            self._entries.set_text(curve, f"pinned · {pin.label(live)}")
        self._entries.changed()

    def pin_labels(self) -> list[str]:
        return [self._entries.text_of(curve) for curve in self.pin_curves]

    # ---- ranges -----------------------------------------------------------------------------
    def _update_x_range(self) -> None:
        steps = max(self._steps, self._pin_steps)
        if steps != self._x_len and not self.zoom_reset.zoomed:
            self._x_len = steps
            self.getPlotItem().setXRange(0, max(1, steps - 1), padding=0.02)

    def _update_y_range(self) -> tuple[float, float]:
        """Whole-decade limits around the finite data; only moves when the data outgrows them."""
        bounds = [b for b in (self._data_limits, self._pin_limits) if b is not None]
        limits = decade_limits(bounds, self._y_limits)
        if limits != self._y_limits:
            self._y_limits = limits
            self._set_y_view(limits)
        return limits

    def _set_y_view(self, limits: tuple[float, float]) -> None:
        low, high = limits
        span = high - low
        # Room outside the data for the edge markers (the legend has a row of its own).
        if not self.zoom_reset.zoomed:
            self.getPlotItem().setYRange(low - VIEW_MARGIN * span, high + VIEW_MARGIN * span, padding=0)

    def _restore_view(self) -> None:
        """The view this plot chose itself (after a mouse zoom is undone)."""
        self._x_len = -1
        self._update_x_range()
        if self._y_limits is not None:
            self._set_y_view(self._y_limits)

    def _title(self) -> str:
        return "Gradient through depth" if self._unit == "layer" else "Gradient through time"

    def _name_steps(self) -> None:
        """The x axis in steps back through time, or in layers back through a deep net (and the
        title with it)."""
        label = "layers back from the loss, l" if self._unit == "layer" else "steps back from the loss, k"
        if self.getPlotItem().getAxis("bottom").labelText != label:
            self.getPlotItem().setLabel("bottom", label)
            self._theme.style_plot(self.getPlotItem(), title=self._title(), y_grid=True)

    def _update_theory(self, frame: Frame, log10_norm: np.ndarray) -> None:
        text: str | tuple[str, ...]
        slope = frame.theory_slope
        finite_steps = np.flatnonzero(np.isfinite(log10_norm))
        bound = frame.bound_log10_dh
        if bound is not None and len(bound) == log10_norm.size and math.isfinite(slope):
            # A deep net's layers have their own weights: the bound is a curve, its slope an average.
            self._theory_curve.setData(self._x, finite_or_nan(np.asarray(bound, dtype=np.float64)), connect="finite")
            text = (f"bound per layer: {slope:+.3f}/layer on average",) * 2 + (f"bound: {slope:+.3f}/layer avg",) * 2
        elif math.isfinite(slope) and finite_steps.size:
            anchor = int(finite_steps[0])
            ks = np.array([anchor, log10_norm.size - 1], dtype=np.float64)
            self._theory_curve.setData(ks, log10_norm[anchor] + slope * (ks - anchor))
            text = (f"bound γσₘₐₓ: {slope_text(slope, self._unit)}",) * 2 + (
                f"bound: {slope_text(slope, self._unit)}",
                f"bound {slope_text(slope, self._unit)}",
            )
        else:
            if self._theory_curve.yData is not None and len(self._theory_curve.yData):
                self._theory_curve.setData([], [])
            text = f"{THEORY} · n/a for gated cells" if math.isnan(frame.gamma) else f"{THEORY} · n/a"
        self._entries.set_text(self._theory_curve, text)

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
        labels = prediction_labels(frame.predicted_kind, frame.predicted_slope, self._unit)
        if self._prediction_in_legend:
            self._pending_prediction = labels  # its slope changes every update: shown with the latest's
        else:
            self._set_prediction_legend(labels)
        return frame.predicted_slope

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if hasattr(self, "_entries") and self.getPlotItem() is not None:  # also resized while built or closed
            self._entries.fit()
        if hasattr(self, "zoom_reset"):
            self.zoom_reset.place()

    # ---- legend bookkeeping (entries appear only while they mean something) ------------------
    def _set_marker_legend(self, item: pg.ScatterPlotItem, present: bool) -> None:
        if present and item not in self._in_legend:
            self._entries.add(item, self._markers.names[item])
            self._in_legend.add(item)
            self._entries.changed()
        elif not present and item in self._in_legend:
            self._entries.remove(item)
            self._in_legend.discard(item)
            self._entries.changed()

    def _set_cell_legend(self, present: bool) -> None:
        if present and not self._cell_in_legend:
            self._entries.add(self._cell_curve, "‖∂L/∂cₜ‖ (cell state)")
            self._cell_in_legend = True
            self._entries.changed()
        elif not present and self._cell_in_legend:
            self._entries.remove(self._cell_curve)
            self._cell_in_legend = False
            self._entries.changed()

    def _set_prediction_legend(self, labels: tuple[str, ...] | None) -> None:
        """The predicted curve's entry, right after the latest curve's (before the bound), while
        there is a curve to explain."""
        if labels is not None and not self._prediction_in_legend:
            self._entries.insert_before(self.prediction_curve, self._theory_curve, labels)
            self._prediction_in_legend = True
            self._entries.changed()
        elif labels is None and self._prediction_in_legend:
            self._entries.forget(self.prediction_curve)
            self._prediction_in_legend = False
            self._entries.changed()
        elif labels is not None:
            self._entries.set_text(self.prediction_curve, labels)

    def legend_text(self) -> list[str]:
        """The legend's current entries (for tests and screenshots)."""
        return self._entries.entries()

    # Read by tests that check the layout and the bound as drawn.
    @property
    def legend(self) -> Legend:
        return self._legend

    @property
    def theory_curve(self) -> pg.PlotDataItem:
        return self._theory_curve

    @property
    def y_limits(self) -> tuple[float, float] | None:
        """The y range shown, in whole decades (None before the first frame)."""
        return self._y_limits
