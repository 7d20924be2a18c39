"""Live histograms of the recurrent weights W_hh and of their gradient, with freezable bin edges."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from gradlab.core import Frame, Histogram
from gradlab.ui.plot_common import CountAxis, nice_ceiling
from gradlab.ui.theme import Theme


class WeightsPlot(QWidget):
    """Two step histograms (``stepMode="center"``) and a "freeze bin edges" switch."""

    freeze_toggled = Signal(bool)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.graphics = pg.GraphicsLayoutWidget()
        # These plots are short: the count axes label only as many ticks as fit.
        self.weights_plot: pg.PlotItem = self.graphics.addPlot(row=0, col=0, axisItems={"left": CountAxis("left")})
        self.grad_plot: pg.PlotItem = self.graphics.addPlot(row=1, col=0, axisItems={"left": CountAxis("left")})
        for plot in (self.weights_plot, self.grad_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").setWidth(int(theme.px(58)))
            plot.enableAutoRange(x=False, y=False)
        self.weights_plot.setLabel("left", "count")
        self.grad_plot.setLabel("left", "count")

        self.weights_hist = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.grad_hist = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.weights_plot.addItem(self.weights_hist)
        self.grad_plot.addItem(self.grad_hist)

        self.freeze_box = QCheckBox("Freeze bin edges")
        self.freeze_box.setToolTip("Keep the current bin edges so the histograms do not jump")
        self.freeze_box.toggled.connect(self.freeze_toggled)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.freeze_box)
        self._titles = ("", "")
        self.apply_theme(theme)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.graphics.setBackground(theme.background)
        self._titles = ("", "")
        self._set_titles("Weights W_hh", "gradient ∂L/∂W_hh")
        theme.style_plot(self.grad_plot)
        for plot in (self.weights_plot, self.grad_plot):
            plot.getAxis("left").setWidth(int(theme.px(58)))
        for item, role in ((self.weights_hist, "hist_weights"), (self.grad_hist, "hist_grad")):
            item.setPen(theme.pen(role, width=theme.thin_line_width))  # type: ignore[arg-type]
            # Opaque (pre-mixed with the background): an alpha fill is blended on every repaint.
            item.setBrush(pg.mkBrush(theme.faded(role, 0.55)))  # type: ignore[arg-type]

    def _set_titles(self, weights: str, grad: str) -> None:
        if (weights, grad) == self._titles:
            return
        self._titles = (weights, grad)
        self._theme.style_plot(self.weights_plot, title=weights)
        self._theme.style_plot(self.grad_plot, title=grad)

    def show_frame(self, frame: Frame) -> None:
        for plot, item, histogram in (
            (self.weights_plot, self.weights_hist, frame.w_hh_hist),
            (self.grad_plot, self.grad_hist, frame.grad_w_hh_hist),
        ):
            if _set_histogram(item, histogram):
                _follow(plot, histogram)
        self._set_titles("Weights W_hh" + _note(frame.w_hh_hist), "gradient ∂L/∂W_hh" + _note(frame.grad_w_hh_hist))


def _set_histogram(item: pg.PlotDataItem, histogram: Histogram) -> bool:
    edges = np.asarray(histogram.edges, dtype=np.float64)
    counts = np.asarray(histogram.counts, dtype=np.float64)
    if edges.size != counts.size + 1 or not np.isfinite(edges).all():
        item.setData([], [])
        return False
    item.setData(edges, counts)
    return True


def _follow(plot: pg.PlotItem, histogram: Histogram) -> None:
    """Move the view only when the data outgrows it or shrinks well inside it, in 1-2-5 steps.

    A view that re-fits every frame redraws its axes every frame and makes the picture twitch.
    The x range is symmetric about 0: weights and gradients are centred there.
    """
    low, high = float(histogram.edges[0]), float(histogram.edges[-1])
    top = float(np.max(histogram.counts)) if histogram.counts.size else 1.0
    (x0, x1), (_, y1) = plot.getViewBox().viewRange()
    extent, view_extent = max(abs(low), abs(high)), max(abs(x0), abs(x1))
    centred = abs(x0 + x1) <= 1e-9 * view_extent
    if not centred or extent > view_extent or extent < 0.35 * view_extent:
        new_extent = nice_ceiling(extent * 1.02)
        plot.setXRange(-new_extent, new_extent, padding=0)
    if top > y1 or top < 0.35 * y1:
        plot.setYRange(0, nice_ceiling(max(1.0, top * 1.1)), padding=0)


def _note(histogram: Histogram) -> str:
    parts = []
    if histogram.outside:
        parts.append(f"{histogram.outside} outside edges")
    if histogram.nonfinite:
        parts.append(f"{histogram.nonfinite} inf/nan")
    return f" · {', '.join(parts)}" if parts else ""
