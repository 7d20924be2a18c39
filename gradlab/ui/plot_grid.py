"""The four live plots in their grid: gradient through time and spectrum above, training and the
weights' histograms below. One object to clear, feed and re-theme them together; a slide renders it.

The spectrum's place holds the "why" panel too (the two factors of a step, or the gates), shown
instead of it by View → Why (key Y); both are fed every frame, so either is current when shown.
Depth mode's per-layer view is fed with them; the window shows it in place of the whole grid
(View → Per-layer view, key L)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtWidgets import QGridLayout, QSizePolicy, QStackedWidget, QWidget

from gradlab.core import Config, Frame
from gradlab.ui.pins import Pin
from gradlab.ui.plot_gradient_time import GradientTimePlot
from gradlab.ui.plot_layers import LayersPanel
from gradlab.ui.plot_spectrum import SpectrumPlot
from gradlab.ui.plot_training import TrainingPlot
from gradlab.ui.plot_weights import WeightsPlot
from gradlab.ui.plot_why import WhyPanel
from gradlab.ui.theme import Theme


class PlotGrid(QWidget):
    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(6)
        grid.addWidget(self.gradient_plot, 0, 0)
        grid.addWidget(self.top_right, 0, 1)
        grid.addWidget(self.training_plot, 1, 0)
        grid.addWidget(self.weights_plot, 1, 1)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 11)
        grid.setRowStretch(1, 10)

    def plots(self) -> tuple[QWidget, ...]:
        return (self.gradient_plot, self.spectrum_plot, self.training_plot, self.weights_plot)

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
