"""Training curves per update: global gradient norm before/after clipping, and the loss.

Both on decade (log10) axes. Every update is drawn (the last ``recording.MAX_UPDATES`` or more),
even when the display coalesced several updates into one frame.

The view ranges are set here, not by pyqtgraph's auto-range: auto-range moves the axes on every
update, and re-laying out and repainting four axes costs more than drawing the curves. The x
range grows in steps of 1-2-5, the y ranges in whole decades (at least three labelled), and only
when the data leaves them. Each legend has a column of its own beside its plot (a row above
it in a tall, narrow panel), so no data is ever under it; a run of a few updates draws its
points as dots (one enormous update is one point).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QWidget

from gradlab.core import Config
from gradlab.core.record import UpdateLog
from gradlab.ui.axes import DecadeAxis, DecadeLimits, FittingAxis, nice_ceiling, tick_text_px
from gradlab.ui.pins import Pin
from gradlab.ui.plot_common import ZoomReset, fit_legend, legend_beside, legend_entry_widths, place_legend
from gradlab.ui.recording import TrainingHistory
from gradlab.ui.theme import Theme
from gradlab.ui.throttle import Throttle

LEGEND_REFRESH_MS = 250  # the counts change every update; re-laying out the legends at 60 Hz costs frames
FIRST_X_RANGE = 50
MAX_EVENT_MARKS = 2000
UNLIMITED_PX = 16_777_215  # Qt's QWIDGETSIZE_MAX
DOTS_UP_TO = 12  # updates: up to this many the points are drawn as dots as well as a line


class TrainingPlot(pg.GraphicsLayoutWidget):
    """Gradient norm (top) and loss (bottom) against the update number."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self._theme = theme
        self.history = TrainingHistory()
        self._clip = "none"

        self.grad_plot: pg.PlotItem = self.addPlot(
            row=0, col=0, axisItems={"left": DecadeAxis("left"), "bottom": FittingAxis("bottom")}
        )
        self.loss_plot: pg.PlotItem = self.addPlot(
            row=1, col=0, axisItems={"left": DecadeAxis("left"), "bottom": FittingAxis("bottom")}
        )
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

        self.grad_curve = self.grad_plot.plot()
        self.grad_clipped_curve = self.grad_plot.plot()
        self.threshold_line = pg.InfiniteLine(angle=0, movable=False)
        self.threshold_line.setVisible(False)  # until a run clips
        self.grad_plot.addItem(self.threshold_line)
        self.loss_curve = self.loss_plot.plot()
        self.baseline_line = pg.InfiniteLine(angle=0, movable=False)
        self.baseline_line.setVisible(False)
        self.loss_plot.addItem(self.baseline_line)
        self.grad_clipped_curve.setZValue(5)
        self.grad_curve.setZValue(4)
        self.loss_curve.setZValue(4)

        self._grad_legend = legend_beside(self.grad_plot)
        self._grad_legend.addItem(self.grad_curve, "gradient norm")
        # An InfiniteLine cannot stand in a legend (pyqtgraph's ItemSample crashes painting it):
        # a data-less curve with the same pen stands in for it.
        self._threshold_sample = pg.PlotDataItem()
        self._baseline_sample = pg.PlotDataItem()
        self._loss_legend = legend_beside(self.loss_plot)
        self._loss_legend.addItem(self.loss_curve, "loss")
        self._loss_legend.addItem(self._baseline_sample, "baseline")
        self._legends_above = False  # beside the data; above it in a tall, narrow panel
        self._texts: dict[int, str] = {}
        self._clip_entries = False  # the "after clipping" and "threshold" entries are shown
        self._dots = False
        # Updates whose norm or loss was inf/nan: no point on a log axis, so a mark at the top.
        self._nonfinite_x: dict[str, np.ndarray] = {"grad": np.empty(0), "loss": np.empty(0)}
        self._grad_events, self._loss_events = pg.ScatterPlotItem(), pg.ScatterPlotItem()
        for events, plot in ((self._grad_events, self.grad_plot), (self._loss_events, self.loss_plot)):
            events.setZValue(7)
            plot.addItem(events)
        self.grad_dots, self.grad_clipped_dots = pg.ScatterPlotItem(), pg.ScatterPlotItem()
        self.loss_dots = pg.ScatterPlotItem()
        for dots, plot in (
            (self.grad_dots, self.grad_plot),
            (self.grad_clipped_dots, self.grad_plot),
            (self.loss_dots, self.loss_plot),
        ):
            dots.setZValue(6)
            plot.addItem(dots)
        self._legend_for: tuple[Config, float | None] | None = None  # the run and baseline the legends say
        self._legends = Throttle(LEGEND_REFRESH_MS, self._refresh_legends, self)

        self.pin_curves: list[tuple[pg.PlotDataItem, pg.PlotDataItem]] = []
        self._pins: tuple[Pin, ...] = ()
        self._x_max = 0.0
        self._grad_limits = DecadeLimits()
        self._loss_limits = DecadeLimits()
        self._threshold: float | None = None
        self._baseline: float | None = None
        self.zoom_reset = ZoomReset(self, (self.grad_plot, self.loss_plot), self._restore_view)
        self.apply_theme(theme)
        self._set_x_max(FIRST_X_RANGE)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        # No title row: at 1280×720 with large fonts its height is what three decade labels
        # need; the axis titles and the legend say what is drawn.
        theme.style_plot(self.grad_plot)
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
        self._set_dots(self._dots, force=True)
        for events in (self._grad_events, self._loss_events):
            events.setSymbol("x")
            events.setSize(theme.px(theme.marker_size))
            events.setBrush(pg.mkBrush(theme.colour("nan_marker")))
            events.setPen(pg.mkPen(theme.colour("nan_marker"), width=1))
        left_width = max(_left_axis_width(plot.getAxis("left")) for plot in (self.grad_plot, self.loss_plot))
        for plot in (self.grad_plot, self.loss_plot):
            # The same width for both, so that the two plots line up.
            plot.getAxis("left").setWidth(left_width)
        self._fit_legends()

    def set_legends_above(self, above: bool) -> None:
        """The legends in a row above the data (a tall, narrow panel) or in a column beside it."""
        if above != self._legends_above:
            self._legends_above = above
            for plot, legend in ((self.grad_plot, self._grad_legend), (self.loss_plot, self._loss_legend)):
                place_legend(plot, legend, above=above)
            self._fit_legends()

    def _fit_legends(self) -> None:
        """One column each, both as wide as the wider, so that the two plots line up; above the
        data, as many columns as fit the panel's width."""
        if self._legends_above:
            data_width = self.width() - self._theme.px(12)  # the row spans the axis' column too
            for legend in (self._grad_legend, self._loss_legend):
                legend.setMinimumWidth(0)
                legend.setMaximumWidth(UNLIMITED_PX)  # its row's width follows the plot
                fit_legend(legend, data_width)
            return
        width = max(max(legend_entry_widths(legend), default=0.0) for legend in (self._grad_legend, self._loss_legend))
        for legend in (self._grad_legend, self._loss_legend):
            if legend.columnCount != 1:
                legend.setColumnCount(1)
            legend.setMinimumWidth(width + self._theme.px(8))
            legend.setMaximumWidth(width + self._theme.px(8))

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        if hasattr(self, "zoom_reset"):
            self._fit_legends()
            self.zoom_reset.place()

    def _set_dots(self, on: bool, *, force: bool = False) -> None:
        """Dots on the points while there are few: a single update is a point, not a line.

        Separate scatter items fed with the finite points only: a curve's own symbols would make
        pyqtgraph take the min of an all-NaN array (a warning on every repaint of a blown-up run).
        """
        self._dots = on
        theme = self._theme
        for dots, curve, role in self._dot_items():
            if force:
                dots.setSymbol("o")
                dots.setSize(theme.px(7))
                dots.setBrush(pg.mkBrush(theme.colour(role)))  # type: ignore[arg-type]
                dots.setPen(pg.mkPen(theme.colour(role)))  # type: ignore[arg-type]
            x, y = curve.xData, curve.yData
            if on and x is not None and y is not None and len(y):
                ok = np.isfinite(y)
                dots.setData(x=np.asarray(x)[ok], y=np.asarray(y)[ok])
            elif dots.data.size:
                dots.setData(x=[], y=[])

    def _dot_items(self) -> list[tuple[pg.ScatterPlotItem, pg.PlotDataItem, str]]:
        return [
            (self.grad_dots, self.grad_curve, "grad_before"),
            (self.grad_clipped_dots, self.grad_clipped_curve, "grad_after"),
            (self.loss_dots, self.loss_curve, "loss"),
        ]

    def _restore_view(self) -> None:
        self._set_x_max(self._x_max, force=True)
        self._apply_y_ranges()

    def clear_history(self) -> None:
        """Forget every update (a new run started). Not ``clear``: GraphicsLayoutWidget binds
        ``clear`` to removing every plot."""
        self.history.clear()
        for curve in (self.grad_curve, self.grad_clipped_curve, self.loss_curve):
            curve.setData([], [])
        self._legends.cancel()
        self._grad_limits.clear()
        self._loss_limits.clear()
        self._threshold = self._baseline = None
        self.zoom_reset.reset()
        self._set_dots(False)
        self._nonfinite_x = {"grad": np.empty(0), "loss": np.empty(0)}
        self._place_events()
        self._include_pins()
        self._set_x_max(max([FIRST_X_RANGE] + [self._pin_x_max()]), force=True)
        self._apply_y_ranges()

    def append(self, chunk: UpdateLog, config: Config, baseline_loss: float | None) -> None:
        """Add the updates in ``chunk`` and redraw."""
        self.history.append(chunk)
        if not self.history.total:
            return
        clipping = config.clip != "none"
        events = self._mark_nonfinite(chunk)
        self._set_clip_entries(clipping)
        self._draw_curves(clipping)
        threshold = math.log10(config.clip_threshold) if clipping else None
        known = baseline_loss is not None and math.isfinite(baseline_loss) and baseline_loss > 0
        baseline = math.log10(baseline_loss) if known and baseline_loss is not None else None
        self._place_line(self.threshold_line, threshold, self._threshold)
        self._place_line(self.baseline_line, baseline, self._baseline)
        self._threshold, self._baseline = threshold, baseline
        if self._widen_ranges(len(chunk), clipping, threshold, baseline):
            self._apply_y_ranges()
        elif events:
            self._place_events()
        last = float(self.history.iteration[-1])
        if last > self._x_max:
            self._set_x_max(nice_ceiling(last * 1.25))
        self._legend_for = (config, baseline_loss)
        self._legends.request()

    def _mark_nonfinite(self, chunk: UpdateLog) -> bool:
        """Remember where the gradient norm or the loss was inf or nan; True if anything new."""
        events = False
        for key, values in (("grad", chunk.grad_norm), ("loss", chunk.loss)):
            bad = ~np.isfinite(np.asarray(values, dtype=np.float64))
            if bad.any():
                marked = np.concatenate([self._nonfinite_x[key], chunk.iteration[bad].astype(np.float64)])
                self._nonfinite_x[key] = marked[-MAX_EVENT_MARKS:]
                events = True
        return events

    def _draw_curves(self, clipping: bool) -> None:
        history, x = self.history, self.history.iteration
        self.grad_curve.setData(x, history.log10_grad, connect="finite")
        if clipping:
            self.grad_clipped_curve.setData(x, history.log10_grad_clipped, connect="finite")
        elif self.grad_clipped_curve.yData is not None and len(self.grad_clipped_curve.yData):
            # Empty rather than hidden: the legend draws an "eye" icon for hidden items.
            self.grad_clipped_curve.setData([], [])
        self.loss_curve.setData(x, history.log10_loss, connect="finite")
        if x.size <= DOTS_UP_TO or self._dots:
            self._set_dots(x.size <= DOTS_UP_TO)

    @staticmethod
    def _place_line(line: pg.InfiniteLine, value: float | None, shown: float | None) -> None:
        """Show ``line`` at ``value`` (None: hide it), unless it shows that already."""
        if value != shown:
            line.setVisible(value is not None)
            if value is not None:
                line.setPos(value)

    def _widen_ranges(self, new_updates: int, clipping: bool, threshold: float | None, baseline: float | None) -> bool:
        """Widen the y limits to hold the new updates and the lines; True if they changed."""
        history = self.history
        new = slice(-new_updates, None) if new_updates <= len(history) else slice(None)
        changed = self._grad_limits.include(history.log10_grad[new])
        if clipping:
            changed |= self._grad_limits.include(history.log10_grad_clipped[new])
        changed |= self._loss_limits.include(history.log10_loss[new])
        for limits, line in ((self._grad_limits, threshold), (self._loss_limits, baseline)):
            changed |= line is not None and limits.include(line)
        return changed

    def _refresh_legends(self) -> None:
        if self._legend_for is None:
            return
        (config, baseline_loss), history = self._legend_for, self.history
        clipping = config.clip != "none"
        grad_note = f" ({history.nonfinite_grad} inf/nan)" if history.nonfinite_grad else ""
        before = "before clipping" if clipping else "gradient norm"
        self._set_label(self._grad_legend, self.grad_curve, f"{before}{grad_note}")
        if clipping:
            after = f"after · clipped {history.clip_count} of {history.total}"
            self._set_label(self._grad_legend, self.grad_clipped_curve, after)
            # Clipping by value bounds each entry, not the norm: the line says so.
            per_entry = " per entry" if config.clip == "value" else ""
            self._set_label(
                self._grad_legend, self._threshold_sample, f"threshold {config.clip_threshold:g}{per_entry}"
            )
        loss_note = f" ({history.nonfinite_loss} inf/nan)" if history.nonfinite_loss else ""
        self._set_label(self._loss_legend, self.loss_curve, f"loss{loss_note}")
        known = baseline_loss is not None and math.isfinite(baseline_loss)
        self._set_label(
            self._loss_legend, self._baseline_sample, f"baseline {baseline_loss:.3g}" if known else "baseline"
        )

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
                self._texts.pop(id(loss), None)
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
        self._fit_legends()

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
        if (x_max != self._x_max or force) and not self.zoom_reset.zoomed:
            self._x_max = x_max
            self.grad_plot.setXRange(0, x_max, padding=0.01)

    def _apply_y_ranges(self) -> None:
        if self.zoom_reset.zoomed:
            return
        for plot, limits in ((self.grad_plot, self._grad_limits), (self.loss_plot, self._loss_limits)):
            # Nothing finite yet (a run that overflowed at once): three decades around 1.
            view = limits.view() or (-1.08, 1.08)
            plot.setYRange(*view, padding=0)
        self._place_events()

    def _place_events(self) -> None:
        """The inf/nan marks along the top of each plot, above the data."""
        for key, events, limits in (
            ("grad", self._grad_events, self._grad_limits),
            ("loss", self._loss_events, self._loss_limits),
        ):
            xs = self._nonfinite_x[key]
            view = limits.view() or (-1.08, 1.08)
            top = view[1] - 0.02 * (view[1] - view[0])
            if xs.size or events.data.size:
                events.setData(x=xs, y=np.full(xs.size, top))

    def _set_clip_entries(self, on: bool) -> None:
        """The "after clipping" and "threshold" entries only while clipping is on."""
        if on == self._clip_entries:
            return
        self._clip_entries = on
        legend = self._grad_legend
        for item, text in ((self.grad_clipped_curve, "after clipping"), (self._threshold_sample, "threshold")):
            self._texts.pop(id(item), None)
            if on:
                legend.addItem(item, text)
            else:
                legend.removeItem(item)
        self._texts.pop(id(self.grad_curve), None)
        self._theme.style_legend(legend)
        self._fit_legends()

    def _set_label(self, legend: pg.LegendItem, item: object, text: str) -> None:
        if self._texts.get(id(item)) == text:
            return
        self._texts[id(item)] = text
        for sample, label in legend.items:
            if sample.item is item:
                label.setText(text)
                break
        self._fit_legends()

    def legend_text(self) -> list[str]:
        return [label.text for legend in (self._grad_legend, self._loss_legend) for _, label in legend.items]


def _left_axis_width(axis: pg.AxisItem) -> int:
    """Room for the widest decade label, the tick, and the rotated axis title beside them."""
    text_width, _ = tick_text_px(axis, "1e-300")
    title_height = axis.label.boundingRect().height() if axis.label.isVisible() else 0.0
    return int(math.ceil(text_width + title_height + axis.style["tickTextOffset"][0] + 8))
