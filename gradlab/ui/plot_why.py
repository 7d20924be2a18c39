"""Why the gradient vanishes or explodes: the two factors of every step (vanilla RNN), or the
gates that carry it (LSTM/GRU). It only draws what the Frame carries (``gradlab.core.prediction``).

Vanilla RNN, per step back k, on one axis of log10 factors (so that the sum of two curves is the
predicted step): the weight factor log10(‖W_hh‖_F/√H), the bound's factor log10(γ·σ_max), the
activation factor log10 RMS φ′(a_{T−k}), and their sum. Gated cells: a histogram over units of
the mean forget gate f (LSTM) or update gate z (GRU), with the time constant τ = −1/ln f.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from gradlab.core import Frame
from gradlab.ui.axes import FittingAxis
from gradlab.ui.plot_common import fit_legend, legend_above, readout_label, stack_with_readout
from gradlab.ui.theme import Theme

GATE_BINS = np.linspace(0.0, 1.0, 41)
GATE_SATURATED = 0.95  # a gate above this keeps > 95 % a step: τ > 20 steps


def frame_cell(frame: Frame) -> str:
    """ "lstm", "gru" or "rnn", from what a frame carries (its gates, the name of its block)."""
    if frame.gate_mean is None:
        return "rnn"
    return "gru" if frame.spectrum_block.startswith("W_hn") else "lstm"


def gate_mean_text(frame: Frame) -> tuple[str, str]:
    """The big readout of a gated cell: ("mean f", "0.731"), or ("", "") for a vanilla RNN."""
    cell = frame_cell(frame)
    if cell == "rnn":
        return "", ""
    assert frame.gate_mean is not None
    gate = np.asarray(frame.gate_mean, dtype=np.float64)
    gate = gate[np.isfinite(gate)]
    return f"mean {gate_letter(cell)}", (f"{gate.mean():.3f}" if gate.size else "–")


def gate_letter(cell: str) -> str:
    """The gate that carries the gradient: f (LSTM's forget gate), z (GRU's update gate)."""
    return "f" if cell == "lstm" else "z"


def gate_counts(gate_mean: np.ndarray) -> np.ndarray:
    """Units per bin of ``GATE_BINS`` (float, for setData); non-finite means are left out."""
    gate = np.asarray(gate_mean, dtype=np.float64)
    counts, _ = np.histogram(np.clip(gate[np.isfinite(gate)], 0.0, 1.0), bins=GATE_BINS)
    return counts.astype(np.float64)


def gate_tau(gate: float) -> float:
    """The time constant τ = −1/ln f of a gate kept at f every step: f^τ = 1/e (∞ at f = 1)."""
    if not 0.0 < gate < 1.0:
        return math.inf if gate >= 1.0 else 0.0
    return -1.0 / math.log(gate)


def gate_readout(gate_mean: np.ndarray, cell: str) -> list[str]:
    """["mean f 0.73", "median τ 3.2 steps", "4% of units f > 0.95"] (one item if nothing is finite)."""
    name = gate_letter(cell)
    gate = np.asarray(gate_mean, dtype=np.float64)
    gate = gate[np.isfinite(gate)]
    if gate.size == 0:
        return [f"mean {name} –"]
    median_tau = gate_tau(float(np.median(gate)))  # τ is monotonic in f: the median unit's τ
    tau_text = "∞" if not math.isfinite(median_tau) else f"{median_tau:.3g}"
    share = float(np.mean(gate > GATE_SATURATED))
    return [
        f"mean {name} {gate.mean():.2f}",
        f"median τ {tau_text} steps",
        f"{share:.0%} of units {name} > {GATE_SATURATED}",
    ]


def gate_summary(gate_mean: np.ndarray, cell: str) -> str:
    """ "mean f 0.73 · median τ 3.2 steps · 4 % of units f > 0.95" for the readout."""
    return " · ".join(gate_readout(gate_mean, cell))


class WhyPanel(QWidget):
    """The factors of the vanilla RNN's step, or the histogram of gated cells' gates."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = theme
        self.plot_widget = pg.PlotWidget(axisItems={"left": FittingAxis("left"), "bottom": FittingAxis("bottom")})
        plot = self.plot_widget.getPlotItem()
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.getAxis("left").enableAutoSIPrefix(False)
        self.legend = legend_above(plot)
        self.weight_curve = plot.plot(name="‖W‖/√H")
        self.bound_curve = plot.plot(name="γ·σₘₐₓ (bound)")
        self.activation_curve = plot.plot(name="RMS φ′")
        self.step_curve = plot.plot(name="sum")
        self.gate_bars = pg.PlotCurveItem(GATE_BINS, np.zeros(GATE_BINS.size - 1), stepMode="center", fillLevel=0.0)
        plot.addItem(self.gate_bars)
        self.readout = readout_label()
        stack_with_readout(self, self.plot_widget, self.readout)
        self.mode = ""  # "factors" or "gates"
        self.apply_theme(theme)
        self.clear()

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.plot_widget.setBackground(theme.background)
        plot = self.plot_widget.getPlotItem()
        theme.style_plot(plot, y_grid=True)
        theme.style_legend(self.legend)
        self.weight_curve.setPen(theme.pen("cell_state"))
        self.bound_curve.setPen(theme.pen("theory", dashed=True, width=theme.thin_line_width))
        self.activation_curve.setPen(theme.pen("grad_before"))
        self.step_curve.setPen(theme.pen("latest"))
        self.gate_bars.setPen(theme.pen("hist_weights", width=theme.thin_line_width))
        self.gate_bars.setBrush(pg.mkBrush(theme.colour("hist_weights", alpha=0.5)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    def _fit_legend(self) -> None:
        """As many legend columns as fit the data area's width (the legend's row spans it only),
        then the plot laid out again at the view's size: a plot laid out while the legend was wider
        keeps that width (and runs off the panel) until told."""
        left_axis = self.plot_widget.getPlotItem().getAxis("left")
        fit_legend(self.legend, self.plot_widget.width() - left_axis.width() - 8)
        self.plot_widget.centralWidget.setGeometry(QRectF(self.plot_widget.viewport().rect()))

    def clear(self) -> None:
        for curve in (self.weight_curve, self.bound_curve, self.activation_curve, self.step_curve):
            curve.setData([], [])
        self.gate_bars.setData(GATE_BINS, np.zeros(GATE_BINS.size - 1))
        self.readout.setText("")

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        plot = self.plot_widget.getPlotItem()
        factors = mode == "factors"
        for curve in (self.weight_curve, self.bound_curve, self.activation_curve, self.step_curve):
            curve.setVisible(factors)
        self.legend.setVisible(factors)
        self.gate_bars.setVisible(not factors)
        if factors:
            title = "Why: two factors per step"
            plot.setLabel("bottom", "steps back from the loss")
            plot.setLabel("left", "log10 factor per step")
            plot.enableAutoRange()
        else:
            title = "Gates: mean per unit"
            plot.setLabel("left", "units")
            plot.setXRange(0.0, 1.0, padding=0.02)
            plot.enableAutoRange(x=False, y=True)
        self._theme.style_plot(plot, title=title, y_grid=True)
        # The axes measured themselves before their labels had the theme's font.
        plot.getAxis("left")._updateWidth()
        plot.getAxis("bottom")._updateHeight()
        self._fit_legend()

    def show_frame(self, frame: Frame, cell: str) -> None:
        if frame.gate_mean is not None:
            self._set_mode("gates")
            self.plot_widget.getPlotItem().setLabel(
                "bottom", "mean forget gate f" if cell == "lstm" else "mean update gate z"
            )
            self.gate_bars.setData(GATE_BINS, gate_counts(frame.gate_mean))
            self.readout.setText(gate_summary(frame.gate_mean, cell))
            return
        if frame.log10_activation_factor is None:
            self.clear()
            return
        self._set_mode("factors")
        activation = np.asarray(frame.log10_activation_factor, dtype=np.float64)
        steps = np.arange(activation.size, dtype=np.float64)
        finite = np.isfinite(activation)
        weight = frame.log10_weight_factor
        bound = math.log10(frame.gamma * frame.sigma_max) if frame.gamma * frame.sigma_max > 0 else math.nan
        ends = np.array([0.0, max(activation.size - 1, 1)])
        for curve, level in ((self.weight_curve, weight), (self.bound_curve, bound)):
            if math.isfinite(level):
                curve.setData(ends, np.full(2, level))
            else:
                curve.setData([], [])
        self.activation_curve.setData(steps[finite], activation[finite])
        self.step_curve.setData(steps[finite], activation[finite] + weight)
        rms = 10.0 ** float(np.mean(activation[finite])) if finite.any() else math.nan
        share = frame.saturated_share
        self.readout.setText(
            f"weights {weight:+.2f} · activation {math.log10(rms) if rms > 0 else math.nan:+.2f}"
            f" (RMS φ′ {rms:.2g}) · {share:.0%} {frame.saturated_label}"
        )
