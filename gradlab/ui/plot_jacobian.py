"""The Jacobian's singular values (dynamical isometry): a histogram over log10 σ of ∂h_T/∂h_{T−k}
for the first sequence of the batch, σ_max and σ_min, the update they are from, and k.

Saxe et al. 2014; Pennington, Schoenholz & Ganguli 2017: orthogonal weights keep every singular
value near 1 (a linear RNN exactly), Gaussian weights spread them over decades as k grows; the
gradient's norm follows the largest, the spread says how many directions are lost. The values cost
k·H³, so the simulation process measures them (``gradlab.core.jacobian``) only while this panel is
on screen: it asks when shown and stops asking when hidden (the spectrum or the why panel in its
place, the phase map over the plots, a minimised window).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from gradlab.core import Config
from gradlab.core.jacobian import JacobianSpectrum, default_k, jacobian_k_max, jacobian_supported, k_capped
from gradlab.ui.axes import CountAxis, DecadeAxis, nice_ceiling, tick_text_px
from gradlab.ui.plot_common import fitting_text, readout_label
from gradlab.ui.theme import Theme

if TYPE_CHECKING:
    from gradlab.ui.simulation import SimulationController

MAX_BINS = 40
MIN_BIN_DECADES = 0.05  # an isometric Jacobian (all σ = 1 to rounding) is one bar this wide
VIEW_DECADES = 1.0  # the view always holds σ from 1e-1 to 1e1: three labelled decades around σ = 1

K_TIP = "k: how many steps back the Jacobian ∂h_T/∂h_{T−k} reaches (1 … T)"


def sigma_text(log10_value: float) -> str:
    """σ from its log10, short: 2.59, 0.0312, 3.1e-08, 1e-250 (no overflow: never 10**value
    beyond float64), "0" for an exact zero."""
    if log10_value == -math.inf:
        return "0"
    if not math.isfinite(log10_value):
        return "nan"
    if -3.0 <= log10_value < 4.0:
        return f"{10.0**log10_value:.3g}"
    exponent = math.floor(log10_value)
    mantissa = 10.0 ** (log10_value - exponent)
    if round(mantissa, 1) >= 10.0:
        mantissa, exponent = mantissa / 10.0, exponent + 1
    return f"{mantissa:.2g}e{exponent}"


def histogram(log10_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (multiples of a 1-2-5 width, at most ``MAX_BINS`` bins) and counts of the
    finite values."""
    values = np.asarray(log10_values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.array([-0.5 * MIN_BIN_DECADES, 0.5 * MIN_BIN_DECADES]), np.zeros(1)
    low, high = float(values.min()), float(values.max())
    width = max(MIN_BIN_DECADES, nice_ceiling((high - low) / MAX_BINS)) if high > low else MIN_BIN_DECADES
    # Edges at half-widths around multiples of the width: σ = 1 (log 0) is a bin's middle.
    first = math.floor(low / width + 0.5) - 0.5
    last = math.ceil(high / width + 0.5) - 0.5
    edges = np.arange(first, last + 0.5) * width
    if edges.size < 2:
        edges = np.array([first, first + 1.0]) * width
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return edges, counts.astype(np.float64)


class JacobianPanel(QWidget):
    """The histogram, its readout and the k control. ``wanted`` says what to measure: k while the
    panel is on screen (and the cell has such a Jacobian), None otherwise."""

    wanted = Signal(object)  # int k, or None: measure nothing

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.plot_widget = pg.PlotWidget(axisItems={"left": CountAxis("left"), "bottom": DecadeAxis("bottom")})
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)  # a touchpad brush must not zoom a lecture's picture
        plot.enableAutoRange(x=False, y=False)
        plot.setLabel("left", "count")
        self.bars = pg.PlotCurveItem(np.array([-0.025, 0.025]), np.zeros(1), stepMode="center", fillLevel=0.0)
        plot.addItem(self.bars)
        # σ = 1: an isometry. Explained in the axis title, not a legend or a label on the data.
        self.unit_line = pg.InfiniteLine(pos=0.0, angle=90, movable=False)
        plot.addItem(self.unit_line)
        # Below σ_max·H·ε the product's rounding hides the values: shaded, and counted in the readout.
        self.rounding_region = pg.LinearRegionItem(orientation="vertical", movable=False)
        self.rounding_region.setZValue(-10)
        for line in self.rounding_region.lines:
            line.setPen(pg.mkPen(None))
        plot.addItem(self.rounding_region)
        self.rounding_region.hide()

        self.readout = readout_label()
        self.k_box = QSpinBox()
        self.k_box.setObjectName("jacobianK")
        self.k_box.setKeyboardTracking(False)  # typing "50" asks for k = 50, not 5 first
        self.k_box.setToolTip(K_TIP)
        self.k_label = QLabel("k")
        self.k_label.setToolTip(self.k_box.toolTip())
        self.k_range = QLabel()
        # The update the values are from, beside k: both say what the histogram is of.
        self.update_label = QLabel()
        k_row = QHBoxLayout()
        k_row.setContentsMargins(4, 0, 4, 0)
        for widget in (self.k_label, self.k_box, self.k_range):
            k_row.addWidget(widget)
        k_row.addStretch(1)
        k_row.addWidget(self.update_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.readout)
        layout.addLayout(k_row)
        # Sized by the grid cell it stands in, never by its own hint (as the other plots).
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(220, 160)

        self._config: Config | None = None
        self._title = ""
        self._axis_title = ""
        self._max_count = 0.0
        self.spectrum: JacobianSpectrum | None = None  # the one drawn
        self.k_box.valueChanged.connect(self._k_chosen)
        self.apply_theme(theme)
        self._show_text("")

    def follow(self, controller: SimulationController) -> None:
        """Show ``controller``'s runs: a new run's k range, the values it measures, and ask it for
        them (k) or for nothing (None)."""
        controller.started.connect(lambda _run_id, config: self.set_config(config))
        controller.jacobian_measured.connect(self.show_spectrum)
        self.wanted.connect(controller.measure_jacobian)

    # ---- what to measure ------------------------------------------------------------------------
    @property
    def k(self) -> int:
        return int(self.k_box.value())

    @property
    def supported(self) -> bool:
        return self._config is not None and jacobian_supported(self._config)

    def request(self) -> int | None:
        """What the simulation should measure now: k while on screen, None otherwise."""
        return self.k if self.isVisible() and self.supported else None

    def set_config(self, config: Config) -> None:
        """A run started: k's range is 1 … T (L − 1 for the feed-forward net); a new length takes
        the default T/2, the same length keeps the k chosen."""
        previous, self._config = self._config, config
        self.spectrum = None
        self._max_count = 0.0
        self.bars.setData(np.array([-0.025, 0.025]), np.zeros(1))
        self.rounding_region.hide()
        supported = jacobian_supported(config)
        self.k_box.setEnabled(supported)
        k_max = jacobian_k_max(config)
        same_length = previous is not None and jacobian_k_max(previous) == k_max and previous.cell == config.cell
        self.k_box.blockSignals(True)
        self.k_box.setRange(1, max(1, k_max))
        if not same_length:
            self.k_box.setValue(default_k(config))
        self.k_box.blockSignals(False)
        capped = k_capped(config)
        self.k_range.setText(f"of {k_max} (cost)" if capped else f"of {k_max}")
        cost = f"; at most {k_max} at H = {config.hidden_size}: each step back costs 2·H³ flops"
        self.k_box.setToolTip(K_TIP + cost if capped else K_TIP)
        self.update_label.setText("")
        self._fit_title()
        if not supported:
            self._show_text(
                "LSTM/GRU: this panel shows the vanilla RNN's Jacobian only (the gates: key Y)"
                if config.cell != "mlp"
                else "With BatchNorm/LayerNorm the samples are coupled: no per-sample Jacobian here"
            )
        else:
            self._show_text("measuring…" if self.isVisible() else "")
        self.wanted.emit(self.request())

    def _k_chosen(self, _value: int) -> None:
        if self.isVisible():
            self.wanted.emit(self.request())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_title()
        self.wanted.emit(self.request())

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self.wanted.emit(None)

    # ---- drawing --------------------------------------------------------------------------------
    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.plot_widget.setBackground(theme.background)
        plot = self.plot_widget.getPlotItem()
        theme.style_plot(plot)
        self._title = ""
        self._fit_title()
        self.bars.setPen(theme.pen("hist_weights", width=theme.thin_line_width))
        self.bars.setBrush(pg.mkBrush(theme.faded("hist_weights", 0.5)))
        self.unit_line.setPen(theme.pen("theory", width=theme.thin_line_width, dashed=True))
        self.rounding_region.setBrush(pg.mkBrush(theme.faded("baseline", 0.75)))
        for widget in (self.k_label, self.k_range, self.k_box, self.update_label):
            widget.setFont(theme.font(theme.label_font_pt))
        # The count axis needs room for "1000" and its rotated title beside it.
        axis = plot.getAxis("left")
        axis.setWidth(int(tick_text_px(axis, "1000")[0] + axis.label.boundingRect().height() + theme.px(10)))

    def _fit_title(self) -> None:
        """The longest wordings of the title and of the σ axis' title that fit the plot's width (a
        longer axis title would hold the plot wider than the panel, and cut off its right side)."""
        feedforward = self._config is not None and self._config.cell == "mlp"
        jacobian = "∂h_L/∂h_{L−k}" if feedforward else "∂h_T/∂h_{T−k}"
        plot = self.plot_widget.getPlotItem()
        width = self.plot_widget.width() - plot.getAxis("left").width() - self._theme.px(12)
        candidates = [f"Singular values of {jacobian}", f"Jacobian {jacobian}", "Jacobian σ", "σ(J)"]
        title = fitting_text(self._theme.title_font(), width, candidates)
        axis_title = fitting_text(
            self._theme.font(self._theme.label_font_pt),
            width,
            ["singular value σ (dashed: σ = 1)", "σ (dashed: σ = 1)", "σ, dashed 1", "σ"],
        )
        if axis_title != self._axis_title:
            self._axis_title = axis_title
            plot.setLabel("bottom", axis_title)
            self._title = ""  # style_plot below styles the new axis title too
        if title != self._title:
            self._title = title
            self._theme.style_plot(plot, title=title)

    def title(self) -> str:
        return self._title

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._fit_title()

    def show_spectrum(self, spectrum: JacobianSpectrum) -> None:
        """Draw ``spectrum`` (one of the current run's: the controller drops other runs'); one
        measured for another k than the box's (asked for before the box changed) is not drawn."""
        if not self.supported or spectrum.k != self.k:
            return
        self.spectrum = spectrum
        values = np.asarray(spectrum.log10_singular_values, dtype=np.float64)
        if spectrum.note or not values.size:
            self.bars.setData(np.array([-0.025, 0.025]), np.zeros(1))
            self.rounding_region.hide()
            self.update_label.setText(f"update {spectrum.iteration:,}")
            self._show_text(spectrum.note or "no values")
            return
        floor = spectrum.log10_floor
        zeros = int(np.sum(values == -np.inf))
        resolved = values[np.isfinite(values) & (values > floor)]
        lost = int(values.size - zeros - resolved.size)
        edges, counts = histogram(resolved)
        self.bars.setData(edges, counts)
        self._set_view(edges, counts, floor if lost else None)
        largest = sigma_text(float(values[0]))
        if zeros:
            smallest = f"0 ({zeros} exactly)"
        elif lost:
            smallest = f"< {sigma_text(floor)}"
        else:
            smallest = sigma_text(float(values[-1]))
        lines = [f"σₘₐₓ {largest}   σₘᵢₙ {smallest}"]
        if lost:
            lines.append(f"{lost} of {values.size} lost to rounding (grey)")
        self.update_label.setText(f"update {spectrum.iteration:,}")
        self._show_text("\n".join(lines))

    def _set_view(self, edges: np.ndarray, counts: np.ndarray, floor: float | None) -> None:
        """Whole decades around the bars, σ = 1 and the rounding floor; counts from 0. The view
        grows at once and shrinks only when the data has shrunk much, so the picture keeps still."""
        low = min(float(edges[0]), -VIEW_DECADES, floor if floor is not None else 0.0)
        high = max(float(edges[-1]), VIEW_DECADES)
        view_low, view_high = math.floor(low - 0.2), math.ceil(high + 0.2)
        plot = self.plot_widget.getPlotItem()
        if floor is not None:
            self.rounding_region.setRegion((view_low - 1.0, floor))
            self.rounding_region.show()
        else:
            self.rounding_region.hide()
        top = float(counts.max(initial=0.0))
        if top > self._max_count or top < 0.5 * self._max_count:
            self._max_count = top
        plot.setRange(xRange=(view_low, view_high), yRange=(0.0, max(1.0, self._max_count) * 1.1), padding=0)

    def _show_text(self, text: str) -> None:
        if text != self.readout.text():
            self.readout.setText(text)
