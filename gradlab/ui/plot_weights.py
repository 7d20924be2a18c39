"""Live histograms of the recurrent weights W_hh and of their gradient, with freezable bin edges.

The gradient histogram is of the gradient as computed, before any clipping (what the core
records); its title says so while clipping is on. Titles never widen the panel: each picks the
longest of its wordings that fits the plot's width.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from gradlab.core import Config, Frame, Histogram
from gradlab.ui.axes import CountAxis, FittingAxis, nice_ceiling, tick_text_px
from gradlab.ui.plot_common import ZoomReset, fitting_text
from gradlab.ui.theme import Theme


class WeightsPlot(QWidget):
    """Two step histograms (``stepMode="center"``) and a "freeze bin edges" switch."""

    freeze_toggled = Signal(bool)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.graphics = pg.GraphicsLayoutWidget()
        # These plots are short: the count axes label only as many ticks as fit.
        self.weights_plot: pg.PlotItem = self.graphics.addPlot(
            row=0, col=0, axisItems={"left": CountAxis("left"), "bottom": FittingAxis("bottom")}
        )
        self.grad_plot: pg.PlotItem = self.graphics.addPlot(
            row=1, col=0, axisItems={"left": CountAxis("left"), "bottom": FittingAxis("bottom")}
        )
        for plot in (self.weights_plot, self.grad_plot):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.enableAutoRange(x=False, y=False)
        self.weights_plot.setLabel("left", "count")
        self.grad_plot.setLabel("left", "count")

        self.weights_hist = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.grad_hist = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.weights_plot.addItem(self.weights_hist)
        self.grad_plot.addItem(self.grad_hist)

        self.freeze_box = QCheckBox("Freeze bin edges")
        self.freeze_box.setObjectName("freezeBox")
        self.freeze_box.setToolTip("Keep the current bin edges so the histograms do not jump")
        self.freeze_box.toggled.connect(self.freeze_toggled)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.freeze_box)
        self._titles = ("", "")
        self._notes = ("", "")
        self._grad_when = ""  # " (before clipping)" while clipping is on
        self.zoom_reset = ZoomReset(self.graphics, (self.weights_plot, self.grad_plot), self._restore_view)
        self._last: tuple[Histogram, Histogram] | None = None
        self.apply_theme(theme)
        self.graphics.installEventFilter(self)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.graphics.setBackground(theme.background)
        self._titles = ("", "")
        theme.style_plot(self.weights_plot)
        theme.style_plot(self.grad_plot)
        self._fit_titles()
        for plot in (self.weights_plot, self.grad_plot):
            axis = plot.getAxis("left")
            # Room for "10000", the tick and the rotated "count" beside them, which overlapped
            # the numbers in a fixed 58 px.
            width = tick_text_px(axis, "10000")[0] + axis.label.boundingRect().height() + theme.px(10)
            axis.setWidth(int(width))
        for item, role in ((self.weights_hist, "hist_weights"), (self.grad_hist, "hist_grad")):
            item.setPen(theme.pen(role, width=theme.thin_line_width))  # type: ignore[arg-type]
            # Opaque (pre-mixed with the background): an alpha fill is blended on every repaint.
            item.setBrush(pg.mkBrush(theme.faded(role, 0.55)))  # type: ignore[arg-type]

    def _fit_titles(self, view_width: float | None = None) -> None:
        """The longest wording of each title that fits its plot (in a view ``view_width`` px wide,
        by default the view's width now)."""
        weights_note, grad_note = self._notes
        font = self._theme.title_font()
        view_width = self.graphics.width() if view_width is None else view_width
        weights = fitting_text(
            font,
            self._room(self.weights_plot, view_width),
            [f"Weights W_hh{weights_note}", f"W_hh{weights_note}", f"W_hh{_short(weights_note)}", "W_hh"],
        )
        grad = fitting_text(
            font,
            self._room(self.grad_plot, view_width),
            [
                f"Gradient ∂L/∂W_hh{self._grad_when}{grad_note}",
                f"∂L/∂W_hh{self._grad_when}{grad_note}",
                f"∂L/∂W_hh{self._grad_when.replace(' clipping', '')}{_short(grad_note)}",
                f"∂L/∂W_hh{_short(grad_note)}",
                "∂L/∂W_hh",
            ],
        )
        if (weights, grad) == self._titles:
            return
        self._titles = (weights, grad)
        self._theme.style_plot(self.weights_plot, title=weights)
        self._theme.style_plot(self.grad_plot, title=grad)

    @staticmethod
    def _room(plot: pg.PlotItem, view_width: float) -> float:
        """The title's room: the data area's width once the plot fits the view. A title fitted to
        the data area alone would hold a plot that was wider (laid out while hidden, in a tab) as
        wide as it was."""
        data = plot.getViewBox().width()
        return float(min(data, view_width - (plot.width() - data)))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.graphics and isinstance(event, QResizeEvent):
            # The plots' own room changed (this widget's resize comes before its view's, and the
            # view's plots are laid out after this event).
            self._fit_titles(event.size().width())
        return False

    def titles(self) -> tuple[str, str]:
        return self._titles

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if hasattr(self, "zoom_reset"):
            self._fit_titles()
            self.zoom_reset.place()

    def clear(self) -> None:
        """A new run started: forget a mouse zoom."""
        self.zoom_reset.reset()

    def _restore_view(self) -> None:
        if self._last is not None:
            for plot, histogram in zip((self.weights_plot, self.grad_plot), self._last):
                _follow(plot, histogram, force=True)

    def show_frame(self, frame: Frame, config: Config | None = None) -> None:
        """Draw ``frame``'s histograms; ``config`` (the run's) says whether clipping is on."""
        if config is not None:
            self._grad_when = " (before clipping)" if config.clip != "none" else ""
        self._last = (frame.w_hh_hist, frame.grad_w_hh_hist)
        for plot, item, histogram in (
            (self.weights_plot, self.weights_hist, frame.w_hh_hist),
            (self.grad_plot, self.grad_hist, frame.grad_w_hh_hist),
        ):
            if _set_histogram(item, histogram) and not self.zoom_reset.zoomed:
                _follow(plot, histogram)
        notes = (_note(frame.w_hh_hist), _note(frame.grad_w_hh_hist))
        if notes != self._notes or config is not None:
            self._notes = notes
            self._fit_titles()


def _set_histogram(item: pg.PlotDataItem, histogram: Histogram) -> bool:
    edges = np.asarray(histogram.edges, dtype=np.float64)
    counts = np.asarray(histogram.counts, dtype=np.float64)
    if edges.size != counts.size + 1 or not np.isfinite(edges).all():
        item.setData([], [])
        return False
    item.setData(edges, counts)
    return True


def _follow(plot: pg.PlotItem, histogram: Histogram, *, force: bool = False) -> None:
    """Move the view only when the data outgrows it or shrinks well inside it, in 1-2-5 steps.

    A view that re-fits every frame redraws its axes every frame and makes the picture twitch.
    The x range is symmetric about 0: weights and gradients are centred there.
    """
    low, high = float(histogram.edges[0]), float(histogram.edges[-1])
    top = float(np.max(histogram.counts)) if histogram.counts.size else 1.0
    (x0, x1), (_, y1) = plot.getViewBox().viewRange()
    extent, view_extent = max(abs(low), abs(high)), max(abs(x0), abs(x1)) / 1.24
    centred = abs(x0 + x1) <= 1e-9 * view_extent
    if force or not centred or extent > view_extent or extent < 0.35 * view_extent:
        new_extent = nice_ceiling(extent * 1.02)
        # Padded, so that the labels at ±extent fit inside the axis (pyqtgraph drops them otherwise).
        plot.setXRange(-new_extent, new_extent, padding=0.12)
    if force or top > y1 or top < 0.35 * y1:
        plot.setYRange(0, nice_ceiling(max(1.0, top * 1.1)), padding=0)


def _note(histogram: Histogram) -> str:
    parts = []
    if histogram.outside:
        parts.append(f"{histogram.outside} outside edges")
    if histogram.nonfinite:
        parts.append(f"{histogram.nonfinite} inf/nan")
    return f" · {', '.join(parts)}" if parts else ""


def _short(note: str) -> str:
    """ " · 4096 inf/nan" for " · 12 outside edges, 4096 inf/nan": the non-finite count matters most."""
    if "inf/nan" in note:
        return " · " + note.rsplit(", ", 1)[-1].removeprefix(" · ")
    return ""
