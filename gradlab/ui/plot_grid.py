"""The four live plots in their grid: gradient through time and spectrum above, training and the
weights' histograms below. One object to clear, feed and re-theme them together; a slide renders it.

The spectrum's place holds the "why" panel too (the two factors of a step, or the gates), shown
instead of it by View → Why (key Y); both are fed every frame, so either is current when shown.
Depth mode's per-layer view is fed with them; the window shows it in place of the whole grid
(View → Per-layer view, key L).

Where the grid is too small for four plots at the plots' type size (1280×720 with the controls
shown and large fonts: cells of about 270×220 px, in which the axes alone take 80 px), it is laid
out side by side: the gradient plot, the main picture, keeps the whole height on the left, and the
spectrum, training and weights panels share the right column as tabs, each at full height. Where
even that is too narrow (the type made larger still, with the controls shown), all four panels are
tabs, each at the whole size of the plots area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QStackedWidget, QTabWidget, QWidget

from gradlab.core import Config, Frame
from gradlab.ui.pins import Pin
from gradlab.ui.plot_gradient_time import GradientTimePlot
from gradlab.ui.plot_layers import LayersPanel
from gradlab.ui.plot_spectrum import SpectrumPlot
from gradlab.ui.plot_training import TrainingPlot
from gradlab.ui.plot_weights import WeightsPlot
from gradlab.ui.plot_why import WhyPanel
from gradlab.ui.theme import Theme

# The smallest grid (in pixels at the plots' type scale 1) that holds four plots legibly: each
# cell wide enough for the axis ticks and a side legend beside data, and tall enough for the
# gradient plot's legend row above the data. Smaller grids are laid out compactly.
FULL_GRID_MIN_WIDTH = 700
FULL_GRID_MIN_HEIGHT = 420
# Side by side: the gradient plot and the tabs of the other panels, which are at least this wide
# (px at scale 1): the spectrum, the histograms and the training legends need it. The gradient
# plot needs as much for its title and decade axis (290 px at scale 1).
SIDE_STRETCH = (3, 2)
TABS_MIN_WIDTH = 300
SIDE_MIN_WIDTH = 2 * TABS_MIN_WIDTH + 20
TAB_NAMES = {"spectrum": "Spectrum", "why": "Why", "jacobian": "Jacobian"}

Arrangement = Literal["grid", "side", "tabs"]


def fits_full_grid(width: int, height: int, scale: float) -> bool:
    """Whether a grid of ``width``×``height`` px holds four plots whose type is at ``scale``."""
    return width >= FULL_GRID_MIN_WIDTH * scale and height >= FULL_GRID_MIN_HEIGHT * scale


class PlotGrid(QWidget):
    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._scale = theme.scale
        self.arrangement: Arrangement = "grid"
        self.gradient_plot = GradientTimePlot(theme)
        self.training_plot = TrainingPlot(theme)
        self.weights_plot = WeightsPlot(theme)
        self.spectrum_plot = SpectrumPlot(theme)
        self.why_panel = WhyPanel(theme)
        self.layers_panel = LayersPanel(theme)  # not in the grid: the window's views hold it
        self.top_right = QStackedWidget()  # the spectrum, or the why panel in its place
        self.top_right.addWidget(self.spectrum_plot)
        self.top_right.addWidget(self.why_panel)
        for plot in (*self.plots(), self.why_panel, self.top_right):
            # Sizes come from the grid's stretch factors alone, not from each plot's size hint
            # (which would let one plot squeeze the others).
            plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            plot.setMinimumSize(220, 160)
        # The panels shown as tabs (a page each; empty while the grid is full).
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.tabs.hide()
        self.top_right.currentChanged.connect(lambda _index: self._name_tabs())
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setSpacing(6)
        self._lay_out("grid")

    def plots(self) -> tuple[QWidget, ...]:
        return (self.gradient_plot, self.spectrum_plot, self.training_plot, self.weights_plot)

    # ---- layout -----------------------------------------------------------------------------
    @property
    def compact(self) -> bool:
        """Some panels are tabs (the grid is too small for four plots)."""
        return self.arrangement != "grid"

    def _lay_out(self, arrangement: Arrangement) -> None:
        """Four cells, the gradient plot beside the other panels' tabs, or four tabs (see the
        module's note)."""
        grid = self._grid
        self.arrangement = arrangement
        current = self.tabs.currentWidget()
        for widget in (self.gradient_plot, self.top_right, self.training_plot, self.weights_plot, self.tabs):
            grid.removeWidget(widget)
        while self.tabs.count():
            self.tabs.removeTab(0)
        for index in range(2):
            grid.setRowStretch(index, 0)
            grid.setColumnStretch(index, 0)
        self.training_plot.set_legends_above(self.compact)  # its tab is tall and narrow
        if self.compact:
            tabbed: list[QWidget] = [self.top_right, self.training_plot, self.weights_plot]
            if arrangement == "tabs":
                tabbed.insert(0, self.gradient_plot)
            for panel in tabbed:
                self.tabs.addTab(panel, "")
            self._name_tabs()
            if current in tabbed:
                self.tabs.setCurrentWidget(current)
            self.tabs.show()
            grid.setRowStretch(0, 1)
            if arrangement == "side":
                grid.addWidget(self.gradient_plot, 0, 0)
                grid.addWidget(self.tabs, 0, 1)
                self.gradient_plot.show()  # out of the tabs, where it was a page: hidden when moved
                grid.setColumnStretch(0, SIDE_STRETCH[0])
                grid.setColumnStretch(1, SIDE_STRETCH[1])
            else:
                grid.addWidget(self.tabs, 0, 0)
                grid.setColumnStretch(0, 1)
        else:
            self.tabs.hide()
            grid.addWidget(self.gradient_plot, 0, 0)
            grid.addWidget(self.top_right, 0, 1)
            grid.addWidget(self.training_plot, 1, 0)
            grid.addWidget(self.weights_plot, 1, 1)
            for panel in (self.gradient_plot, self.top_right, self.training_plot, self.weights_plot):
                panel.show()
            grid.setColumnStretch(0, 2)
            grid.setColumnStretch(1, 1)
            grid.setRowStretch(0, 11)
            grid.setRowStretch(1, 10)

    def _name_tabs(self) -> None:
        shown = self.top_right.currentWidget()
        top_right = "spectrum" if shown is self.spectrum_plot else "why" if shown is self.why_panel else "jacobian"
        names = {
            self.gradient_plot: "Gradient",
            self.top_right: TAB_NAMES[top_right],
            self.training_plot: "Training",
            self.weights_plot: "Weights",
        }
        for index in range(self.tabs.count()):
            self.tabs.setTabText(index, names[self.tabs.widget(index)])

    def _fit_layout(self) -> None:
        """The fullest arrangement that the plots area holds at the plots' type size."""
        width, scale = self.width(), self._scale
        arrangement: Arrangement = "tabs" if width < SIDE_MIN_WIDTH * scale else "side"
        if fits_full_grid(width, self.height(), scale):
            arrangement = "grid"
        if arrangement != self.arrangement:
            self._lay_out(arrangement)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_layout()

    def clear(self) -> None:
        self.gradient_plot.clear_history()
        self.training_plot.clear_history()
        self.spectrum_plot.clear()
        self.weights_plot.clear()
        self.why_panel.clear()
        self.layers_panel.clear()

    def add_updates(self, chunk: Any, config: Config, frame: Frame | None) -> None:
        """Every update's row goes to the training curves, whether or not a frame came with it."""
        self.training_plot.append(chunk, config, frame.baseline_loss if frame else None)

    def show_frame(self, frame: Frame, config: Config) -> None:
        self.gradient_plot.show_frame(frame, config)
        self.weights_plot.show_frame(frame, config)
        self.spectrum_plot.show_frame(frame)
        self.why_panel.show_frame(frame, config.cell)  # the per-layer view: fed by view.PlotViews while shown

    def set_pins(self, pins: Sequence[Pin], live: Config) -> None:
        self.gradient_plot.set_pins(pins, live)
        self.training_plot.set_pins(pins, live)

    def apply_theme(self, theme: Theme) -> None:
        themed = (self.gradient_plot, self.training_plot, self.weights_plot, self.spectrum_plot, self.why_panel)
        for plot in (*themed, self.layers_panel):
            plot.apply_theme(theme)
        self._scale = theme.scale
        self.tabs.setMinimumWidth(int(TABS_MIN_WIDTH * theme.scale))
        self.tabs.setStyleSheet(f"QTabBar {{ font-size: {theme.pt(theme.axis_font_pt):.1f}pt; }}")
        self._fit_layout()
