"""One widget per plot. Each creates its pyqtgraph items once and updates them with setData."""

from gradlab.ui.plots.gradient_time import GradientTimePlot
from gradlab.ui.plots.spectrum import SpectrumPlot
from gradlab.ui.plots.training import TrainingPlot
from gradlab.ui.plots.weights import WeightsPlot

__all__ = ["GradientTimePlot", "SpectrumPlot", "TrainingPlot", "WeightsPlot"]
