"""Training curves per update: global gradient norm before/after clipping, and the loss.

Both on decade (log10) axes. Every update is kept (up to ``MAX_UPDATES``, then the oldest go),
even when the display coalesced several updates into one frame.

The view ranges are set here, not by pyqtgraph's auto-range: auto-range moves the axes on every
update, and re-laying out and repainting four axes costs more than drawing the curves. The x
range grows in steps of 1-2-5, the y ranges in whole decades, and only when the data leaves them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QWidget

from gradlab.core import Config
from gradlab.ui.pins import Pin
from gradlab.ui.plot_common import DecadeAxis, add_legend, nice_ceiling, safe_log10
from gradlab.ui.theme import Theme
from gradlab.ui.worker import UpdateHistory

MAX_UPDATES = 20_000  # bounded so that memory stays flat over hours of streaming
LEGEND_REFRESH_S = 0.25
FIRST_X_RANGE = 50


class TrainingHistory:
    """The per-update scalars of one run, in preallocated arrays, oldest dropped when full."""

    def __init__(self, capacity: int = MAX_UPDATES) -> None:
        self.capacity = capacity
        self.iteration = np.empty(0, np.float64)
        self.log10_grad = np.empty(0)
        self.log10_grad_clipped = np.empty(0)
        self.log10_loss = np.empty(0)
        self.clipped = np.empty(0, bool)
        self.nonfinite_loss = 0
        self.nonfinite_grad = 0
        self.clip_count = 0
        self.total = 0

    def clear(self) -> None:
        self.__init__(self.capacity)  # type: ignore[misc]

    def append(self, chunk: UpdateHistory) -> None:
        if not len(chunk):
            return
        self.total += len(chunk)
        self.clip_count += int(np.count_nonzero(chunk.clipped))
        self.nonfinite_loss += int(np.count_nonzero(~np.isfinite(chunk.loss)))
        self.nonfinite_grad += int(np.count_nonzero(~np.isfinite(chunk.grad_norm)))
        keep = self.capacity

        def grow(old: np.ndarray, new: np.ndarray) -> np.ndarray:
            return np.concatenate([old, new])[-keep:]

        self.iteration = grow(self.iteration, chunk.iteration.astype(np.float64))
        self.log10_grad = grow(self.log10_grad, safe_log10(chunk.grad_norm))
        self.log10_grad_clipped = grow(self.log10_grad_clipped, safe_log10(chunk.grad_norm_clipped))
        self.log10_loss = grow(self.log10_loss, safe_log10(chunk.loss))
        self.clipped = grow(self.clipped, chunk.clipped)


class DecadeLimits:
    """Whole-decade [low, high] that only grows, around finite log10 values."""

    def __init__(self) -> None:
        self.low = math.inf
        self.high = -math.inf

    def clear(self) -> None:
        self.low, self.high = math.inf, -math.inf

    def include(self, values: np.ndarray | float) -> bool:
        """Widen to hold ``values``; True if the limits changed."""
        values = np.asarray(values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        if not finite.size:
            return False
        low, high = math.floor(float(finite.min())), math.ceil(float(finite.max()))
        if high - low < 1:
            high = low + 1
        changed = low < self.low or high > self.high
        self.low, self.high = min(self.low, low), max(self.high, high)
        return changed

    def view(self) -> tuple[float, float] | None:
        if not math.isfinite(self.low):
            return None
        span = self.high - self.low
        return self.low - 0.04 * span, self.high + 0.04 * span


class TrainingPlot(pg.GraphicsLayoutWidget):
    """Gradient norm (top) and loss (bottom) against the update number."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self._theme = theme
        self.history = TrainingHistory()
        self._clip = "none"

        self.grad_plot: pg.PlotItem = self.addPlot(row=0, col=0, axisItems={"left": DecadeAxis("left")})
        self.loss_plot: pg.PlotItem = self.addPlot(row=1, col=0, axisItems={"left": DecadeAxis("left")})
        self.loss_plot.setXLink(self.grad_plot)
        self.grad_plot.getAxis("bottom").setStyle(showValues=False)
        self.grad_plot.setLabel("left", "‖∇‖")
        self.loss_plot.setLabel("left", "loss")
        self.loss_plot.setLabel("bottom", "update")
        for plot in (self.grad_plot, self.loss_plot):
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.enableAutoRange(x=False, y=False)
            # Keep the left axes the same width so the two plots line up.
            plot.getAxis("left").setWidth(int(theme.px(58)))

        self.grad_curve = self.grad_plot.plot()
        self.grad_clipped_curve = self.grad_plot.plot()
        self.threshold_line = pg.InfiniteLine(angle=0, movable=False)
        self.grad_plot.addItem(self.threshold_line)
        self.loss_curve = self.loss_plot.plot()
        self.baseline_line = pg.InfiniteLine(angle=0, movable=False)
        self.loss_plot.addItem(self.baseline_line)
        self.grad_clipped_curve.setZValue(5)
        self.grad_curve.setZValue(4)
        self.loss_curve.setZValue(4)

        self._grad_legend = add_legend(self.grad_plot, offset=(-10, 5))
        self._grad_legend.addItem(self.grad_curve, "before clipping")
        self._grad_legend.addItem(self.grad_clipped_curve, "after clipping")
        # An InfiniteLine cannot stand in a legend (pyqtgraph's ItemSample crashes painting it):
        # a data-less curve with the same pen stands in for it.
        self._threshold_sample = pg.PlotDataItem()
        self._baseline_sample = pg.PlotDataItem()
        self._grad_legend.addItem(self._threshold_sample, "threshold")
        self._loss_legend = add_legend(self.loss_plot, offset=(-10, 5))
        self._loss_legend.addItem(self.loss_curve, "loss")
        self._loss_legend.addItem(self._baseline_sample, "baseline")
        # One row each, so the legends cover a strip at the top instead of a block of the data.
        self._grad_legend.setColumnCount(3)
        self._loss_legend.setColumnCount(2)
        self._texts: dict[int, str] = {}
        self._legend_refreshed = 0.0

        self.pin_curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._pins: tuple[Pin, ...] = ()
        self._x_max = 0.0
        self._grad_limits = DecadeLimits()
        self._loss_limits = DecadeLimits()
        self._threshold: float | None = None
        self._baseline: float | None = None
        self.apply_theme(theme)
        self._set_x_max(FIRST_X_RANGE)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        theme.style_plot(self.grad_plot, title="Training")
        theme.style_plot(self.loss_plot)
        for legend in (self._grad_legend, self._loss_legend):
            theme.style_legend(legend)
        self.grad_curve.setPen(theme.pen("grad_before", width=theme.line_width * 0.7))
        self.grad_clipped_curve.setPen(theme.pen("grad_after", width=theme.thin_line_width))
        self.threshold_line.setPen(theme.pen("threshold", width=theme.thin_line_width, dashed=True))
        self._threshold_sample.setPen(theme.pen("threshold", width=theme.thin_line_width, dashed=True))
        self.loss_curve.setPen(theme.pen("loss", width=theme.line_width * 0.7))
        self.baseline_line.setPen(theme.pen("baseline", width=theme.thin_line_width, dashed=True))
        self._baseline_sample.setPen(theme.pen("baseline", width=theme.thin_line_width, dashed=True))
        for pin, (grad, loss) in zip(self._pins, self.pin_curves):
            grad.setPen(theme.pin_pen(pin.slot))
            loss.setPen(theme.pin_pen(pin.slot))
        for plot in (self.grad_plot, self.loss_plot):
            plot.getAxis("left").setWidth(int(theme.px(58)))

    def clear_history(self) -> None:
        """Forget every update (a new run started).

        Not ``clear``: GraphicsLayoutWidget binds ``clear`` to removing every plot.
        """
        self.history.clear()
        for curve in (self.grad_curve, self.grad_clipped_curve, self.loss_curve):
            curve.setData([], [])
        self._legend_refreshed = 0.0
        self._grad_limits.clear()
        self._loss_limits.clear()
        self._threshold = self._baseline = None
        self._include_pins()
        self._set_x_max(max([FIRST_X_RANGE] + [self._pin_x_max()]), force=True)
        self._apply_y_ranges()

    def append(self, chunk: UpdateHistory, config: Config, baseline_loss: float | None) -> None:
        """Add the updates in ``chunk`` and redraw."""
        history = self.history
        history.append(chunk)
        if not history.total:
            return
        x = history.iteration
        clipping = config.clip != "none"
        self.grad_curve.setData(x, history.log10_grad, connect="finite")
        if clipping:
            self.grad_clipped_curve.setData(x, history.log10_grad_clipped, connect="finite")
        elif self.grad_clipped_curve.yData is not None and len(self.grad_clipped_curve.yData):
            # Empty rather than hidden: the legend draws an "eye" icon for hidden items.
            self.grad_clipped_curve.setData([], [])
        self.loss_curve.setData(x, history.log10_loss, connect="finite")

        show_threshold = config.clip == "norm"
        threshold = math.log10(config.clip_threshold) if show_threshold else None
        if threshold != self._threshold:
            self._threshold = threshold
            self.threshold_line.setVisible(threshold is not None)
            if threshold is not None:
                self.threshold_line.setPos(threshold)
        baseline = (
            math.log10(baseline_loss)
            if baseline_loss is not None and math.isfinite(baseline_loss) and baseline_loss > 0
            else None
        )
        if baseline != self._baseline:
            self._baseline = baseline
            self.baseline_line.setVisible(baseline is not None)
            if baseline is not None:
                self.baseline_line.setPos(baseline)

        new = slice(-len(chunk), None) if len(chunk) <= x.size else slice(None)
        changed = self._grad_limits.include(history.log10_grad[new])
        if clipping:
            changed |= self._grad_limits.include(history.log10_grad_clipped[new])
        if threshold is not None:
            changed |= self._grad_limits.include(threshold)
        changed |= self._loss_limits.include(history.log10_loss[new])
        if baseline is not None:
            changed |= self._loss_limits.include(baseline)
        if changed:
            self._apply_y_ranges()
        last = float(x[-1])
        if last > self._x_max:
            self._set_x_max(nice_ceiling(last * 1.25))

        now = time.monotonic()
        if now - self._legend_refreshed < LEGEND_REFRESH_S:
            return
        # The counts change every update; re-laying out the legends at 60 Hz costs frames.
        self._legend_refreshed = now
        grad_note = f" ({history.nonfinite_grad} inf/nan)" if history.nonfinite_grad else ""
        self._set_label(self._grad_legend, self.grad_curve, f"before clipping{grad_note}")
        after = f"after · clipped {history.clip_count} of {history.total}" if clipping else "after (off)"
        self._set_label(self._grad_legend, self.grad_clipped_curve, after)
        threshold_text = f"threshold {config.clip_threshold:g}" if show_threshold else "threshold (off)"
        self._set_label(self._grad_legend, self._threshold_sample, threshold_text)
        loss_note = f" ({history.nonfinite_loss} inf/nan)" if history.nonfinite_loss else ""
        self._set_label(self._loss_legend, self.loss_curve, f"loss{loss_note}")
        baseline_text = (
            f"baseline {baseline_loss:.3g}"
            if baseline_loss is not None and math.isfinite(baseline_loss)
            else "baseline"
        )
        self._set_label(self._loss_legend, self._baseline_sample, baseline_text)

    # ---- pins -------------------------------------------------------------------------------
    def set_pins(self, pins: Sequence[Pin], live: Config) -> None:
        """Show each pin's gradient norm and loss as ghost curves."""
        pins = tuple(pins)
        if [id(p) for p in pins] != [id(p) for p in self._pins]:
            for grad, loss in self.pin_curves:
                self._loss_legend.removeItem(loss)
                self.grad_plot.removeItem(grad)
                self.loss_plot.removeItem(loss)
            self.pin_curves = []
            for pin in pins:
                pen = self._theme.pin_pen(pin.slot)
                x = pin.update_iteration.astype(np.float64)
                grad = pg.PlotDataItem(x, pin.log10_grad, connect="finite", pen=pen)
                loss = pg.PlotDataItem(x, pin.log10_loss, connect="finite", pen=pen)
                for item, plot in ((grad, self.grad_plot), (loss, self.loss_plot)):
                    item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                    item.setZValue(2)
                    plot.addItem(item)
                self._loss_legend.addItem(loss, "")
                self.pin_curves.append((grad, loss))
            self._pins = pins
            if self._include_pins():
                self._apply_y_ranges()
            pin_x = self._pin_x_max()
            if pin_x > self._x_max:
                self._set_x_max(pin_x)
        for pin, (_, loss) in zip(self._pins, self.pin_curves):
            self._set_label(self._loss_legend, loss, f"pinned · {pin.label(live)}")
        self._theme.style_legend(self._loss_legend)

    def _pin_x_max(self) -> float:
        ends = [float(p.update_iteration[-1]) for p in self._pins if p.update_iteration.size]
        return nice_ceiling(max(ends)) if ends else 0.0

    def _include_pins(self) -> bool:
        changed = False
        for pin in self._pins:
            changed |= self._grad_limits.include(pin.log10_grad)
            changed |= self._loss_limits.include(pin.log10_loss)
        return changed

    # ---- ranges -----------------------------------------------------------------------------
    def _set_x_max(self, x_max: float, *, force: bool = False) -> None:
        if x_max != self._x_max or force:
            self._x_max = x_max
            self.grad_plot.setXRange(0, x_max, padding=0.01)

    def _apply_y_ranges(self) -> None:
        for plot, limits in ((self.grad_plot, self._grad_limits), (self.loss_plot, self._loss_limits)):
            view = limits.view()
            if view is not None:
                # Room at the top for the one-row legend, which would cover the curve otherwise.
                low, high = view
                plot.setYRange(low, high + 0.6 * (high - low), padding=0)

    def _set_label(self, legend: pg.LegendItem, item: object, text: str) -> None:
        if self._texts.get(id(item)) == text:
            return
        self._texts[id(item)] = text
        for sample, label in legend.items:
            if sample.item is item:
                label.setText(text)
                return

    def legend_text(self) -> list[str]:
        return [label.text for legend in (self._grad_legend, self._loss_legend) for _, label in legend.items]
