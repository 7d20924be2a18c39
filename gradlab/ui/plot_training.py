"""Training curves per update: global gradient norm before/after clipping, and the loss.

Both on decade (log10) axes. Every update is kept (up to ``MAX_UPDATES``, then the oldest go),
even when the display coalesced several updates into one frame.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from gradlab.core import Config
from gradlab.ui.plot_common import DecadeAxis, add_legend, safe_log10
from gradlab.ui.theme import Theme
from gradlab.ui.worker import UpdateHistory

MAX_UPDATES = 20_000  # bounded so that memory stays flat over hours of streaming


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
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        theme.style_plot(self.grad_plot, title="Training")
        theme.style_plot(self.loss_plot)
        for legend in (self._grad_legend, self._loss_legend):
            theme.style_legend(legend)
            for _, label in legend.items:
                label.setText(label.text, color=theme.foreground, size=f"{theme.pt(theme.axis_font_pt):.1f}pt")
        self.grad_curve.setPen(theme.pen("grad_before", width=theme.line_width * 0.8))
        self.grad_clipped_curve.setPen(theme.pen("grad_after", width=theme.thin_line_width))
        self.threshold_line.setPen(theme.pen("threshold", width=theme.thin_line_width, dashed=True))
        self._threshold_sample.setPen(theme.pen("threshold", width=theme.thin_line_width, dashed=True))
        self.loss_curve.setPen(theme.pen("loss", width=theme.line_width * 0.8))
        self.baseline_line.setPen(theme.pen("baseline", width=theme.thin_line_width, dashed=True))
        self._baseline_sample.setPen(theme.pen("baseline", width=theme.thin_line_width, dashed=True))
        for plot in (self.grad_plot, self.loss_plot):
            plot.getAxis("left").setWidth(int(theme.px(58)))

    def clear_history(self) -> None:
        """Forget every update (a new run started).

        Not ``clear``: GraphicsLayoutWidget binds ``clear`` to removing every plot.
        """
        self.history.clear()
        for curve in (self.grad_curve, self.grad_clipped_curve, self.loss_curve):
            curve.setData([], [])

    def append(self, chunk: UpdateHistory, config: Config, baseline_loss: float | None) -> None:
        """Add the updates in ``chunk`` and redraw."""
        history = self.history
        history.append(chunk)
        if not history.total:
            return
        x = history.iteration
        self.grad_curve.setData(x, history.log10_grad, connect="finite")
        clipping = config.clip != "none"
        # Empty rather than hidden: the legend draws an "eye" icon for hidden items.
        if clipping:
            self.grad_clipped_curve.setData(x, history.log10_grad_clipped, connect="finite")
        else:
            self.grad_clipped_curve.setData([], [])
        self.loss_curve.setData(x, history.log10_loss, connect="finite")

        show_threshold = config.clip == "norm"
        self.threshold_line.setVisible(show_threshold)
        if show_threshold:
            self.threshold_line.setPos(math.log10(config.clip_threshold))
        if baseline_loss is not None and math.isfinite(baseline_loss) and baseline_loss > 0:
            self.baseline_line.setVisible(True)
            self.baseline_line.setPos(math.log10(baseline_loss))
        else:
            self.baseline_line.setVisible(False)

        grad_note = f" ({history.nonfinite_grad} inf/nan)" if history.nonfinite_grad else ""
        self._set_label(self._grad_legend, self.grad_curve, f"before clipping{grad_note}")
        after = f"after · clipped {history.clip_count} of {history.total}" if clipping else "after (off)"
        self._set_label(self._grad_legend, self.grad_clipped_curve, after)
        threshold = f"threshold {config.clip_threshold:g}" if show_threshold else "threshold (off)"
        self._set_label(self._grad_legend, self._threshold_sample, threshold)
        loss_note = f" ({history.nonfinite_loss} inf/nan)" if history.nonfinite_loss else ""
        self._set_label(self._loss_legend, self.loss_curve, f"loss{loss_note}")
        baseline = f"baseline {baseline_loss:.3g}" if baseline_loss is not None and math.isfinite(baseline_loss) else "baseline"
        self._set_label(self._loss_legend, self._baseline_sample, baseline)

    def _set_label(self, legend: pg.LegendItem, item: object, text: str) -> None:
        if self._texts.get(id(item)) == text:
            return
        self._texts[id(item)] = text
        for sample, label in legend.items:
            if sample.item is item:
                label.setText(text)
                return
