"""Eigenvalues of the recurrent matrix on the complex plane, the unit circle and the 1/γ circle;
for gated cells the gates instead.

The candidate block's spectrum of an LSTM/GRU does not predict its gradient (the forget gate does:
moving the forget bias from −2 to +2 at a fixed ρ = 0.5 moves the slope from −0.41 to 0.00), so
for gated cells the panel shows a histogram over units of the mean forget gate f (LSTM) or update
gate z (GRU), with the time constant τ = −1/ln f on a second axis, and the share of units whose
gate stays open (``gradlab.ui.plot_why``'s gate histogram and readout, drawn here too).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsItem, QWidget

from gradlab.core import Frame
from gradlab.ui.axes import FittingAxis
from gradlab.ui.plot_common import ZoomReset, fitting_text, format_number, readout_label, stack_with_readout
from gradlab.ui.plot_why import GATE_BINS, frame_cell, gate_counts, gate_letter, gate_readout
from gradlab.ui.theme import Theme

_ANGLES = np.linspace(0.0, 2.0 * np.pi, 241)
_CIRCLE_X = np.cos(_ANGLES)
_CIRCLE_Y = np.sin(_ANGLES)
# The τ axis over the gate axis: τ = −1/ln f, written where f = exp(−1/τ). Few labels: near f = 1
# they crowd (τ = 20 and 50 are 0.03 apart).
TAU_TICKS = (1, 2, 5, 20)


class SpectrumPlot(QWidget):
    """Scatter of eigenvalues with reference circles, and ρ / σ_max readouts."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.plot_widget = pg.PlotWidget(axisItems={"left": FittingAxis("left"), "bottom": FittingAxis("bottom")})
        plot = self.plot_widget.getPlotItem()
        plot.setAspectLocked(True)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setLabel("bottom", "Re λ")
        plot.setLabel("left", "Im λ")
        plot.enableAutoRange(x=False, y=False)

        self.unit_circle = plot.plot(_CIRCLE_X, _CIRCLE_Y, antialias=True)
        self.gamma_circle = plot.plot(antialias=True)
        for circle in (self.unit_circle, self.gamma_circle):
            # The circles only change with the view: paint them once into a pixmap.
            circle.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.eigenvalue_points = pg.ScatterPlotItem()
        plot.addItem(self.eigenvalue_points)
        self.eigenvalue_points.setZValue(10)
        for circle in (self.unit_circle, self.gamma_circle):
            circle.setZValue(20)  # over the points: a disk of eigenvalues of radius > 1 hides it otherwise
        # Gated cells: the gates per unit (hidden until a gated frame arrives).
        self.gate_bars = pg.PlotCurveItem(GATE_BINS, np.zeros(GATE_BINS.size - 1), stepMode="center", fillLevel=0.0)
        plot.addItem(self.gate_bars)
        self.gate_bars.hide()
        tau_axis = plot.getAxis("top")
        tau_axis.setTicks([[(math.exp(-1.0 / tau), f"{tau:g}") for tau in TAU_TICKS], []])
        self.mode = "spectrum"  # or "gates"
        self._gate_cell = ""

        self.readout = readout_label(wrap=False)
        stack_with_readout(self, self.plot_widget, self.readout)
        self._radius_limit = 0.0
        self._title = ""
        self._spectrum_iteration: int | None = None
        self._lagging = False  # this run's eigenvalues are from an earlier update than its frames
        self._inverse_gamma = math.nan
        self._show_gamma = False
        self._block = ""
        self.zoom_reset = ZoomReset(self.plot_widget, plot, self._restore_view)
        self.apply_theme(theme)
        self._set_view_radius(1.0)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.plot_widget.setBackground(theme.background)
        plot = self.plot_widget.getPlotItem()
        theme.style_plot(plot)
        self._title = ""
        self._fit_title()
        self.unit_circle.setPen(theme.pen("unit_circle", width=theme.thin_line_width))
        self.gamma_circle.setPen(theme.pen("gamma_circle", width=theme.thin_line_width, dashed=True))
        self.eigenvalue_points.setSize(theme.px(theme.eigen_marker_size))
        self.eigenvalue_points.setBrush(pg.mkBrush(theme.colour("eigenvalues", alpha=0.8)))
        self.eigenvalue_points.setPen(pg.mkPen(theme.background, width=0.5))
        self.gate_bars.setPen(theme.pen("hist_weights", width=theme.thin_line_width))
        self.gate_bars.setBrush(pg.mkBrush(theme.colour("hist_weights", alpha=0.5)))
        if self.mode == "gates":
            self._label_gate_axes()

    def clear(self) -> None:
        """A new run started: the next frame's spectrum is drawn whatever its iteration."""
        self._spectrum_iteration = None
        self._lagging = False
        self.zoom_reset.reset()

    def _fit_title(self) -> None:
        """The longest wording that fits: "Spectrum of W_hg (cell candidate)" on a wide panel, "W_hg"
        on a narrow one, never a title cut off or a panel widened by it."""
        block = self._block or "W_hh"
        short = block.split(" (")[0]
        if self.mode == "gates":
            gate = "forget gate f" if self._gate_cell == "lstm" else "update gate z"
            letter = gate_letter(self._gate_cell)
            candidates = [f"{gate[0].upper()}{gate[1:]} per unit", f"{gate[0].upper()}{gate[1:]}", f"Gate {letter}"]
        else:
            candidates = [f"Spectrum of {block}", f"Eigenvalues of {short}", f"Spectrum {short}", f"λ({short})"]
        title = fitting_text(self._theme.title_font(), self.plot_widget.getPlotItem().getViewBox().width(), candidates)
        if title != self._title:
            self._title = title
            self._theme.style_plot(self.plot_widget.getPlotItem(), title=title)

    def title(self) -> str:
        return self._title

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if hasattr(self, "zoom_reset"):
            self._fit_title()
            if self.mode == "gates":
                self._label_gate_axes()
            self.zoom_reset.place()

    def show_frame(self, frame: Frame) -> None:
        cell = frame_cell(frame)
        if cell != "rnn":
            self._show_gates(frame, cell)
            return
        self._set_mode("spectrum")
        # At large H the core computes the eigenvalues (and ρ) every few updates only, σ_max every
        # update: the readout follows every frame and says from which update the eigenvalues are.
        self._lagging = self._lagging or frame.spectrum_iteration != frame.iteration
        if frame.spectrum_iteration != self._spectrum_iteration:
            # Setting a scatter's data is one of the slower calls in pyqtgraph: only when it changed.
            self._spectrum_iteration = frame.spectrum_iteration
            self._draw_spectrum(frame)
        self._show_readout(frame)

    def _draw_spectrum(self, frame: Frame) -> None:
        eigenvalues = np.asarray(frame.eigenvalues)
        finite = eigenvalues[np.isfinite(eigenvalues)]
        self.eigenvalue_points.setData(x=finite.real.astype(np.float64), y=finite.imag.astype(np.float64))

        gamma = frame.gamma
        inverse_gamma = 1.0 / gamma if math.isfinite(gamma) and gamma > 0 else math.nan
        # For tanh/ReLU/linear 1/γ = 1 and the two circles coincide; draw the unit one only.
        show_gamma = self._show_gamma = math.isfinite(inverse_gamma) and abs(inverse_gamma - 1.0) > 1e-9
        if not (
            inverse_gamma == self._inverse_gamma or (math.isnan(inverse_gamma) and math.isnan(self._inverse_gamma))
        ):
            self._inverse_gamma = inverse_gamma
            if show_gamma:
                self.gamma_circle.setData(inverse_gamma * _CIRCLE_X, inverse_gamma * _CIRCLE_Y)
            else:
                self.gamma_circle.setData([], [])

        radius = 1.0
        if finite.size:
            radius = max(radius, float(np.max(np.abs(finite))))
        if show_gamma:
            radius = max(radius, inverse_gamma)
        self._set_view_radius(radius)

        if frame.spectrum_block != self._block:
            self._block = frame.spectrum_block
            self._fit_title()

    def _show_readout(self, frame: Frame) -> None:
        eigenvalues = np.asarray(frame.eigenvalues)
        missing = int(np.count_nonzero(~np.isfinite(eigenvalues)))
        first = f"ρ = {format_number(frame.spectral_radius)}    σₘₐₓ = {format_number(frame.sigma_max)}"
        # The circles are explained here rather than in a legend, which would cover the plane.
        second = "circle |λ| = 1"
        if self._show_gamma:
            second += f", dashed |λ| = 1/γ = {self._inverse_gamma:g}"
        if self._lagging:
            lag = f"λ, ρ of update {frame.spectrum_iteration:,}"
            second = fitting_text(self.readout.font(), self.readout.width(), [f"{lag} · {second}", lag])
        if missing:
            second = f"{missing} eigenvalues inf/nan"
        if self.readout.fontMetrics().horizontalAdvance(first) + 8 > self.readout.width() > 0:
            first = first.replace("    ", "\n")  # large numbers on a narrow panel: one a line
        text = f"{first}\n{second}"
        if text != self.readout.text():
            self.readout.setText(text)

    # ---- gated cells ------------------------------------------------------------------------------
    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        plot = self.plot_widget.getPlotItem()
        gates = mode == "gates"
        for item in (self.unit_circle, self.gamma_circle, self.eigenvalue_points):
            item.setVisible(not gates)
        self.gate_bars.setVisible(gates)
        plot.setAspectLocked(not gates)
        plot.showAxis("top", gates)
        if gates:
            self._label_gate_axes()
            plot.setXRange(0.0, 1.0, padding=0.02)
        else:
            plot.setLabel("bottom", "Re λ")
            plot.setLabel("left", "Im λ")
            plot.getAxis("top").setLabel("")
            self._spectrum_iteration = None  # the spectrum is drawn again whatever its iteration
            self._radius_limit = 0.0
        self._theme.style_plot(plot)
        self._title = ""
        self._fit_title()

    def _label_gate_axes(self) -> None:
        plot = self.plot_widget.getPlotItem()
        letter = gate_letter(self._gate_cell)
        # The longest wording that fits the panel (the long one was cut at 1280×720).
        wordings = [f"{letter}, mean per unit over steps and batch", f"{letter}, mean per unit", f"mean {letter}"]
        width = plot.getAxis("bottom").width() or plot.getViewBox().width()
        plot.setLabel("bottom", fitting_text(self._theme.font(self._theme.axis_font_pt), width, wordings))
        plot.setLabel("left", "units")
        plot.setLabel("top", f"τ = −1/ln {letter} (steps)")
        self._theme.style_plot(plot)

    def _show_gates(self, frame: Frame, cell: str) -> None:
        """The histogram over units of the mean gate, and its readout (no spectrum for gated cells)."""
        assert frame.gate_mean is not None
        if cell != self._gate_cell:
            self._gate_cell = cell
            self.mode = ""  # relabel for the other gate
        self._set_mode("gates")
        counts = gate_counts(frame.gate_mean)
        self.gate_bars.setData(GATE_BINS, counts)
        if not self.zoom_reset.zoomed:
            top = max(1.0, float(counts.max()))
            self.plot_widget.getPlotItem().setRange(xRange=(0.0, 1.0), yRange=(0.0, top * 1.08), padding=0.02)
        mean, tau, share = (gate_readout(frame.gate_mean, cell) + ["", ""])[:3]
        first = f"{mean}    {tau}" if tau else mean
        if self.readout.fontMetrics().horizontalAdvance(first) + 8 > self.readout.width() > 0:
            first = first.replace("    ", "\n")
        text = f"{first}\n{share}" if share else first
        if text != self.readout.text():
            self.readout.setText(text)

    def _restore_view(self) -> None:
        if self.mode == "gates":
            top = max(1.0, float(np.max(self.gate_bars.getData()[1], initial=0.0)))
            self.plot_widget.getPlotItem().setRange(xRange=(0.0, 1.0), yRange=(0.0, top * 1.08), padding=0.02)
        else:
            self._set_view_radius(self._radius_limit, force=True)

    def _set_view_radius(self, radius: float, *, force: bool = False) -> None:
        # Grow at once, shrink only when much smaller, so the picture does not breathe.
        if self.zoom_reset.zoomed and not force:
            return
        if force or radius > self._radius_limit or radius < 0.6 * self._radius_limit:
            self._radius_limit = radius
            extent = radius * 1.12
            self.plot_widget.getPlotItem().setRange(xRange=(-extent, extent), yRange=(-extent, extent), padding=0)
