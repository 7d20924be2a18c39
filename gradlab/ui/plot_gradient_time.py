"""The main plot: log10 ‖∂L/∂h_t‖ against steps back from the loss, with the theory bound.

The latest update is drawn bright and the few before it fade out. Steps whose norm is exactly
zero (underflow, or cut by truncation) are marked on the bottom edge, inf and nan on the top
edge, so no step is silently missing from the curve.
"""

from __future__ import annotations

import math
import time
from collections import deque

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from gradlab.core import Frame
from gradlab.ui.plot_common import DecadeAxis, add_legend, finite_or_nan, format_number
from gradlab.ui.theme import Theme

PREVIOUS_CURVES = 5
LEGEND_REFRESH_S = 0.25


class GradientTimePlot(pg.PlotWidget):
    """Gradient norm through time for the latest update and a few previous ones."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent, axisItems={"left": DecadeAxis("left")})
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
        self._theory_curve = plot.plot(antialias=True)
        self._cell_curve = plot.plot(antialias=True)
        self.latest_curve = plot.plot(antialias=True)
        self.zero_markers = pg.ScatterPlotItem()
        self.inf_markers = pg.ScatterPlotItem()
        self.nan_markers = pg.ScatterPlotItem()
        for item in (self.zero_markers, self.inf_markers, self.nan_markers):
            plot.addItem(item)
        self.latest_curve.setZValue(10)
        self._cell_curve.setZValue(9)
        for item in (self.zero_markers, self.inf_markers, self.nan_markers):
            item.setZValue(20)

        self._legend = add_legend(plot, offset=(10, 10))
        self._legend.addItem(self.latest_curve, "latest update")
        self._legend.addItem(self._theory_curve, "theory bound")
        self._marker_names = {
            self.zero_markers: "exactly 0 (underflow)",
            self.inf_markers: "inf",
            self.nan_markers: "nan",
        }
        self._in_legend: set[pg.ScatterPlotItem] = set()
        self._legend_corner = "top"
        self._cell_in_legend = False
        self._legend_texts: dict[str, str] = {}

        self._x = np.empty(0)
        self._legend_refreshed = 0.0
        self._y_limits: tuple[float, float] | None = None
        self._x_len = -1
        self.apply_theme(theme)

    # ---- look -------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        plot = self.getPlotItem()
        theme.style_plot(plot, title="Gradient through time", y_grid=True)
        theme.style_legend(self._legend)
        for age, curve in enumerate(self._previous_curves):
            alpha = 0.55 * (1.0 - age / PREVIOUS_CURVES) + 0.08
            curve.setPen(theme.pen("history", width=theme.thin_line_width, alpha=alpha))
        self.latest_curve.setPen(theme.pen("latest"))
        self._cell_curve.setPen(theme.pen("cell_state", width=theme.line_width * 0.8, dashed=True))
        self._theory_curve.setPen(theme.pen("theory", width=theme.line_width * 0.8, dashed=True))
        size = theme.px(theme.marker_size)
        self.zero_markers.setSymbol("t")  # triangle pointing down: fell off the bottom
        self.zero_markers.setSize(size)
        self.zero_markers.setBrush(pg.mkBrush(theme.colour("zero_marker")))
        self.zero_markers.setPen(pg.mkPen(theme.foreground, width=1))
        self.inf_markers.setSymbol("t1")  # triangle pointing up: went off the top
        self.inf_markers.setSize(size)
        self.inf_markers.setBrush(pg.mkBrush(theme.colour("inf_marker")))
        self.inf_markers.setPen(pg.mkPen(theme.foreground, width=1))
        self.nan_markers.setSymbol("x")
        self.nan_markers.setSize(size * 1.1)
        self.nan_markers.setBrush(pg.mkBrush(theme.colour("nan_marker")))
        self.nan_markers.setPen(pg.mkPen(theme.colour("nan_marker"), width=1))
        self.apply_legend_fonts()

    # ---- data -------------------------------------------------------------------------------
    def clear_history(self) -> None:
        """Forget the fading curves (a new run started)."""
        self._previous_y.clear()
        self._legend_refreshed = 0.0
        for curve in self._previous_curves:
            curve.setData([], [])

    def show_frame(self, frame: Frame) -> None:
        log10_norm = np.asarray(frame.log10_dh_norm, dtype=np.float64)
        steps = log10_norm.size
        if steps != self._x.size:
            self._x = np.arange(steps, dtype=np.float64)
            self.clear_history()
        y = finite_or_nan(log10_norm)

        # Fading history: the previous latest curve becomes the first faded one.
        latest_before = self.latest_curve.yData
        if latest_before is not None and len(latest_before) == steps:
            self._previous_y.appendleft(np.asarray(latest_before))
        for curve, old in zip(self._previous_curves, self._previous_y):
            curve.setData(self._x, old, connect="finite")
        self.latest_curve.setData(self._x, y, connect="finite")

        cell_state = frame.log10_dc_norm
        if cell_state is not None:
            cell_y = finite_or_nan(np.asarray(cell_state, dtype=np.float64))
            self._cell_curve.setData(self._x, cell_y, connect="finite")
        else:
            cell_y = None
            self._cell_curve.setData([], [])
        self._set_cell_legend(cell_state is not None)

        low, high = self._update_y_range(y, cell_y)
        self._update_x_range(steps)
        self._update_theory(frame, log10_norm)
        self._update_markers(log10_norm, cell_state, low, high)
        now = time.monotonic()
        if now - self._legend_refreshed >= LEGEND_REFRESH_S:
            # Re-laying out the legend costs a frame's worth of time; a number that changes
            # every update is unreadable at 60 Hz anyway.
            self._legend_refreshed = now
            self._set_legend_text(
                "latest update", f"latest update · fitted slope {_slope(frame.fitted_slope)}"
            )

    def _update_x_range(self, steps: int) -> None:
        if steps != self._x_len:
            self._x_len = steps
            self.getPlotItem().setXRange(0, max(1, steps - 1), padding=0.02)

    def _update_y_range(self, y: np.ndarray, cell_y: np.ndarray | None) -> tuple[float, float]:
        """Whole-decade limits around the finite data; only moves when the data outgrows them."""
        finite = y[np.isfinite(y)]
        if cell_y is not None:
            finite = np.concatenate([finite, cell_y[np.isfinite(cell_y)]])
        if finite.size:
            low, high = math.floor(float(finite.min())), math.ceil(float(finite.max()))
        else:
            low, high = -1.0, 1.0
        if high - low < 1:
            low, high = low - 0.5, high + 0.5
        limits = (float(low), float(high))
        if limits != self._y_limits:
            self._y_limits = limits
            span = high - low
            # Room outside the data for the edge markers.
            self.getPlotItem().setYRange(low - 0.12 * span, high + 0.12 * span, padding=0)
        return limits

    def _update_theory(self, frame: Frame, log10_norm: np.ndarray) -> None:
        slope = frame.theory_slope
        finite_steps = np.flatnonzero(np.isfinite(log10_norm))
        if math.isfinite(slope) and finite_steps.size:
            anchor = int(finite_steps[0])
            ks = np.array([anchor, log10_norm.size - 1], dtype=np.float64)
            self._theory_curve.setData(ks, log10_norm[anchor] + slope * (ks - anchor))
            text = f"theory bound · log₁₀(γσₘₐₓ) = {_slope(slope)}"
        else:
            self._theory_curve.setData([], [])
            text = "theory bound · n/a for gated cells" if math.isnan(frame.gamma) else "theory bound · n/a"
        self._set_legend_text("theory bound", text)
        self._place_legend(frame.fitted_slope)

    def _place_legend(self, slope: float) -> None:
        """Put the legend in the corner the curve leaves free.

        A falling curve (vanishing) leaves the bottom left empty, a rising one the top left.
        """
        corner = "bottom" if not slope >= 0 else "top"
        if corner == self._legend_corner:
            return
        self._legend_corner = corner
        if corner == "bottom":
            self._legend.anchor(itemPos=(0, 1), parentPos=(0, 1), offset=(10, -10))
        else:
            self._legend.anchor(itemPos=(0, 0), parentPos=(0, 0), offset=(10, 10))

    def _update_markers(
        self, log10_norm: np.ndarray, cell_state: np.ndarray | None, low: float, high: float
    ) -> None:
        span = high - low
        bottom, top = low - 0.06 * span, high + 0.06 * span
        values = log10_norm if cell_state is None else np.concatenate([log10_norm, cell_state])
        steps = np.tile(self._x, 1 if cell_state is None else 2)
        for item, mask, level in (
            (self.zero_markers, np.isneginf(values), bottom),
            (self.inf_markers, np.isposinf(values), top),
            (self.nan_markers, np.isnan(values), top),
        ):
            xs = np.unique(steps[mask])
            item.setData(x=xs, y=np.full(xs.size, level))
            self._set_marker_legend(item, bool(xs.size))

    # ---- legend bookkeeping (entries appear only while they mean something) ------------------
    def _set_marker_legend(self, item: pg.ScatterPlotItem, present: bool) -> None:
        if present and item not in self._in_legend:
            self._legend.addItem(item, self._marker_names[item])
            self._in_legend.add(item)
            self.apply_legend_fonts()
        elif not present and item in self._in_legend:
            self._legend.removeItem(item)
            self._in_legend.discard(item)

    def _set_cell_legend(self, present: bool) -> None:
        if present and not self._cell_in_legend:
            self._legend.addItem(self._cell_curve, "‖∂L/∂cₜ‖ (cell state)")
            self._cell_in_legend = True
            self.apply_legend_fonts()
        elif not present and self._cell_in_legend:
            self._legend.removeItem(self._cell_curve)
            self._cell_in_legend = False

    def apply_legend_fonts(self) -> None:
        theme = self._theme
        for _, label in self._legend.items:
            label.setText(label.text, color=theme.foreground, size=f"{theme.pt(theme.axis_font_pt):.1f}pt")

    def _set_legend_text(self, key: str, text: str) -> None:
        if self._legend_texts.get(key) == text:
            return
        self._legend_texts[key] = text
        item = self.latest_curve if key == "latest update" else self._theory_curve
        for sample, label in self._legend.items:
            if sample.item is item:
                label.setText(text)
                break

    def legend_text(self) -> list[str]:
        """The legend's current entries (for tests and screenshots)."""
        return [label.text for _, label in self._legend.items]


def _slope(value: float) -> str:
    if not math.isfinite(value):
        return format_number(value)
    return f"{value:+.3f} decades/step"
