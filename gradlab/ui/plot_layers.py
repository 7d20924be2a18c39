"""Depth mode's per-layer view: what each layer of the deep feed-forward net does in this update.

Two heat maps, layer × bin (Glorot & Bengio 2010, Figs. 6–7): the layer's activations φ(u_l) and
its back-propagated gradient ∂L/∂h_l, both on log10 axes of fixed range (a ReLU net's activations
fall by seven decades over its layers, its gradients by forty: a linear axis shows one bin); beneath,
per layer, the log10 std of h_l, the share of saturated (tanh, sigmoid) or dead (ReLU) units, and
the update:weight ratio log10 ‖ΔW_l‖/‖W_l‖ with CS231n's reference at −3. It only draws what
``Frame.layer_stats`` carries (``gradlab.core.depth``); for the recurrent cells it says so.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from gradlab.core import Frame
from gradlab.core.depth import LayerStats
from gradlab.ui.axes import FittingAxis
from gradlab.ui.plot_common import finite_or_nan, readout_label, stack_with_readout
from gradlab.ui.theme import Theme

# A heat map's cell is the share of its layer's sample in that bin: fixed levels, so that a
# colour means the same from frame to frame (a quarter of the layer in one bin is full colour).
SHARE_LEVELS = (0.0, 0.25)
UPDATE_RATIO_REFERENCE = -3.0  # log10 1e-3: CS231n's rule of thumb for a healthy learning rate
NOT_DEPTH = "Per-layer view: depth mode only (cell mlp)"


def row_shares(counts: np.ndarray) -> np.ndarray:
    """Counts (K, bins) as the share of each row's total (0 where a row is empty)."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    return np.asarray(np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0))


def _heat_plot(layout: pg.GraphicsLayout, col: int) -> tuple[pg.PlotItem, pg.ImageItem]:
    plot = layout.addPlot(row=0, col=col, axisItems={"left": FittingAxis("left"), "bottom": FittingAxis("bottom")})
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(pg.colormap.get("viridis"))
    plot.addItem(image)
    return plot, image


def _line_plot(layout: pg.GraphicsLayout, col: int) -> pg.PlotItem:
    plot = layout.addPlot(row=0, col=col, axisItems={"left": FittingAxis("left"), "bottom": FittingAxis("bottom")})
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("bottom").enableAutoSIPrefix(False)
    return plot


class LayersPanel(QWidget):
    """The per-layer view of depth mode (see the module docstring)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.layout_widget = pg.GraphicsLayoutWidget()
        # Two rows of their own: two heat maps above, three readouts below.
        top = self.layout_widget.addLayout(row=0, col=0)
        bottom = self.layout_widget.addLayout(row=1, col=0)
        self.activation_plot, self.activation_image = _heat_plot(top, 0)
        self.gradient_plot, self.gradient_image = _heat_plot(top, 1)
        self.std_plot = _line_plot(bottom, 0)
        self.share_plot = _line_plot(bottom, 1)
        self.ratio_plot = _line_plot(bottom, 2)
        self.std_curve = self.std_plot.plot()
        self.share_curve = self.share_plot.plot()
        self.ratio_curve = self.ratio_plot.plot()
        self.ratio_reference = pg.InfiniteLine(pos=UPDATE_RATIO_REFERENCE, angle=0)
        self.ratio_plot.addItem(self.ratio_reference)
        self.share_plot.setYRange(0.0, 100.0, padding=0.05)
        self.readout = readout_label()
        stack_with_readout(self, self.layout_widget, self.readout)
        self._share_label = ""
        self.apply_theme(theme)
        self.clear()

    # ---- looks ------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.layout_widget.setBackground(theme.background)
        titles = {
            self.activation_plot: ("Activations per layer", "log10 |φ(u)| (nonzero)", "layer"),
            self.gradient_plot: ("Gradients per layer", "log10 |∂L/∂h|", "layer"),
            self.std_plot: ("log10 std of h", "layer", ""),
            self.share_plot: (self._share_label or "% saturated / dead", "layer", "%"),
            self.ratio_plot: ("update : weight (log10)", "layer", ""),
        }
        for plot, (title, bottom, left) in titles.items():
            theme.style_plot(plot, title=title, y_grid=plot not in (self.activation_plot, self.gradient_plot))
            plot.setLabel("bottom", bottom)
            plot.setLabel("left", left)
        self.std_curve.setPen(theme.pen("latest"))
        self.share_curve.setPen(theme.pen("grad_before"))
        self.ratio_curve.setPen(theme.pen("latest"))
        self.ratio_reference.setPen(theme.pen("theory", dashed=True, width=theme.thin_line_width))

    # ---- data -------------------------------------------------------------------------------
    def clear(self, message: str = "") -> None:
        for image in (self.activation_image, self.gradient_image):
            image.clear()
        for curve in (self.std_curve, self.share_curve, self.ratio_curve):
            curve.setData([], [])
        self.readout.setText(message)

    def show_frame(self, frame: Frame) -> None:
        stats = frame.layer_stats
        if stats is None:
            self.clear(NOT_DEPTH)
            return
        self._show_heat(
            self.activation_image, self.activation_plot, stats.activation_counts, stats, stats.activation_edges
        )
        self._show_heat(self.gradient_image, self.gradient_plot, stats.gradient_counts, stats, stats.gradient_edges)
        layers = stats.layers.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_std = np.log10(np.asarray(stats.activation_std, dtype=np.float64))
        self.std_curve.setData(layers, finite_or_nan(log_std), connect="finite")
        label, share = self._share(stats)
        self.share_curve.setData(layers, finite_or_nan(share), connect="finite")
        if label != self._share_label:
            self._share_label = label
            self._theme.style_plot(self.share_plot, title=label, y_grid=True)
        ratio = np.asarray(stats.log10_update_ratio, dtype=np.float64)
        self.ratio_curve.setData(np.arange(1, ratio.size + 1, dtype=np.float64), finite_or_nan(ratio), connect="finite")
        self.readout.setText(self._readout_text(stats))

    def _show_heat(
        self, image: pg.ImageItem, plot: pg.PlotItem, counts: np.ndarray, stats: LayerStats, edges: np.ndarray
    ) -> None:
        shares = row_shares(counts)  # (K, bins): rows are layers, drawn upwards
        image.setImage(shares, levels=SHARE_LEVELS, autoLevels=False)
        first, last = float(stats.layers[0]), float(stats.layers[-1])
        span = max(last - first, 1.0)
        step = span / max(len(stats.layers) - 1, 1)
        rect = QRectF(float(edges[0]), first - step / 2, float(edges[-1] - edges[0]), span + step)
        image.setRect(rect)
        plot.setXRange(rect.left(), rect.right(), padding=0)
        plot.setYRange(rect.top(), rect.bottom(), padding=0)

    @staticmethod
    def _share(stats: LayerStats) -> tuple[str, np.ndarray]:
        if np.any(stats.dead_percent):
            return "% dead units (ReLU)", np.asarray(stats.dead_percent, dtype=np.float64)
        return "% saturated units", np.asarray(stats.saturated_percent, dtype=np.float64)

    @staticmethod
    def _readout_text(stats: LayerStats) -> str:
        zeros = int(np.sum(stats.gradient_zeros))
        nonfinite = int(np.sum(stats.gradient_nonfinite))
        ratio = np.asarray(stats.log10_update_ratio, dtype=np.float64)
        finite = ratio[np.isfinite(ratio)]
        parts = [f"{len(stats.layers)} layers shown"]
        if finite.size:
            parts.append(f"update:weight 10^{np.median(finite):.1f} (median)")
        if zeros:
            parts.append(f"{zeros} exact-zero gradients")
        if nonfinite:
            parts.append(f"{nonfinite} inf/nan gradients")
        return " · ".join(parts)
