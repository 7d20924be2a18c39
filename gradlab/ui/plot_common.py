"""Helpers every plot needs: safe arrays for setData, number formats, legends that fit, the zoom
reset button and the readout under a panel. The axes are in ``gradlab.ui.axes``.

pyqtgraph must never see inf: non-finite values become NaN gaps here, and each plot marks them
explicitly.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    """A float64 copy with every inf replaced by NaN (drawn as a gap with connect="finite")."""
    out = np.array(values, dtype=np.float64, copy=True)
    out[~np.isfinite(out)] = np.nan
    return out


def safe_log10(values: np.ndarray) -> np.ndarray:
    """log10 of positive finite values; NaN for 0, negatives, inf and nan (no warnings)."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    ok = np.isfinite(values) & (values > 0)
    out[ok] = np.log10(values[ok])
    return out


def padded_range(lo: float, hi: float, *, fraction: float = 0.05, minimum: float = 1.0) -> tuple[float, float]:
    """[lo, hi] widened by a fraction of its span, and to at least ``minimum`` wide."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return -minimum / 2, minimum / 2
    if hi - lo < minimum:
        middle = (hi + lo) / 2
        lo, hi = middle - minimum / 2, middle + minimum / 2
    pad = (hi - lo) * fraction
    return lo - pad, hi + pad


def format_number(value: float, digits: int = 3) -> str:
    """A short readout: 0.500, 1.23e-05, inf, nan."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-3 or magnitude >= 1e4):
        return f"{value:.{max(1, digits - 1)}e}"
    return f"{value:.{digits}f}"


class Legend(pg.LegendItem):
    """A legend that survives its plot being destroyed.

    pyqtgraph anchors a legend to its ViewBox; while Qt tears the scene down, the legend's
    geometry changes after the ViewBox is gone, and the anchor raises "Internal C++ object
    (ViewBox) already deleted" from inside the event loop. Nothing is left to follow then.
    """

    def _GraphicsWidgetAnchor__geometryChanged(self) -> None:
        with contextlib.suppress(RuntimeError):
            super()._GraphicsWidgetAnchor__geometryChanged()

    def mouseDragEvent(self, ev: object) -> None:
        ev.ignore()  # type: ignore[attr-defined]  # it has its own row: dragging it onto the data is no option


def legend_above(plot: pg.PlotItem) -> Legend:
    """A legend in a row of its own between the plot's title and its data area.

    No data point can ever be under it, whatever the data, the zoom or the font size: the row
    is the hidden top axis' row of the plot's layout. Its width follows the plot (never the
    other way round); ``fit_legend`` chooses as many columns as fit that width.
    """
    legend = Legend(offset=None)
    top_axis = plot.getAxis("top")
    plot.layout.removeItem(top_axis)  # never shown here; its cell becomes the legend's
    legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    plot.layout.addItem(legend, 1, 1)
    plot.legend = legend
    return legend


def legend_beside(plot: pg.PlotItem) -> Legend:
    """A legend in a column of its own right of the plot's data area (the hidden right axis'
    cell), one entry a row: for wide, short plots, where a row above would eat the height."""
    legend = Legend(offset=None)
    plot.layout.removeItem(plot.getAxis("right"))  # never shown here; its cell becomes the legend's
    legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    plot.layout.addItem(legend, 2, 2)
    plot.layout.setAlignment(legend, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    plot.legend = legend
    return legend


def place_legend(plot: pg.PlotItem, legend: Legend, *, above: bool) -> None:
    """Move a legend made by ``legend_beside`` or ``legend_above`` into the row above the data
    (``above``) or the column right of it: a panel that is tall and narrow (the compact layout's
    tabs) needs its data's width more than its height."""
    layout = plot.layout
    for axis in ("top", "right"):
        item = plot.getAxis(axis)
        if any(layout.itemAt(i) is item for i in range(layout.count())):
            layout.removeItem(item)  # never shown here; its cell may become the legend's
    layout.removeItem(legend)
    if above:
        # Over the left axis' column too: the row is empty there, and a narrow panel needs it.
        legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addItem(legend, 1, 0, 1, 2)
    else:
        legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        layout.addItem(legend, 2, 2)
        layout.setAlignment(legend, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)


def legend_entry_widths(legend: pg.LegendItem) -> list[float]:
    """Width in px of each entry (sample, label and pyqtgraph's 3 px after each)."""
    return [sample.width() + label.item.boundingRect().width() + 6 for sample, label in legend.items]


def legend_columns(widths: Sequence[float], width: float) -> int:
    """How many columns of entries ``widths`` (px, filling rows left to right) fit in ``width`` px."""
    for candidate in range(max(1, len(widths)), 0, -1):
        # The legend's margins and a little room between columns (measured: ~2 px a column).
        if sum(max(widths[c::candidate]) for c in range(candidate)) + 8 + 2 * candidate <= width:
            return candidate
    return 1


def fit_legend(legend: pg.LegendItem, width: float) -> None:
    """As many columns as fit in ``width`` px (entries fill rows left to right)."""
    columns = legend_columns(legend_entry_widths(legend), width)
    while True:
        if columns != legend.columnCount:
            legend.setColumnCount(columns)
        # The layout's own minimum is the truth: a legend wider than the data area would hold the
        # whole plot wider than its widget.
        if columns == 1 or legend.layout.minimumWidth() <= width:
            break
        columns -= 1
    legend.updateGeometry()


def add_legend(plot: pg.PlotItem, offset: tuple[float, float]) -> Legend:
    """``plot.addLegend(offset=...)`` with a ``Legend``."""
    legend = Legend(offset=offset)
    legend.setParentItem(plot.getViewBox())
    plot.legend = legend
    return legend


class ZoomReset(QToolButton):
    """A "⟲" button in the top right corner of a plot, shown while the mouse has zoomed or panned it.

    A touchpad brush zooms a plot by accident in the middle of a lecture; one click (or the
    window's key) gives the plot back its own view. While zoomed, the plot leaves the view alone.
    The button is a widget over the view, not an item of the scene: exports never show it.
    """

    def __init__(self, host: QWidget, plots: pg.PlotItem | Sequence[pg.PlotItem], restore: Callable[[], None]) -> None:
        super().__init__(host)
        self.setText("⟲")
        self.setToolTip("Undo the zoom: back to the plot's own view")
        self.setAutoRaise(False)
        self.zoomed = False
        self._host = host
        self._restore = restore
        for plot in plots if isinstance(plots, Sequence) else (plots,):
            plot.getViewBox().sigRangeChangedManually.connect(self._zoomed_by_hand)
        self.clicked.connect(self.reset)
        self.hide()

    def _zoomed_by_hand(self, *_args: object) -> None:
        self.zoomed = True
        self.adjustSize()
        self.place()
        self.show()
        self.raise_()

    def reset(self) -> None:
        """Back to the plot's own view (also when a new run or scene starts)."""
        if self.zoomed:
            self.zoomed = False
            self.hide()
            self._restore()

    def place(self) -> None:
        self.move(max(0, self._host.width() - self.width() - 4), 4)


def fitting_text(font: QFont, width: float, candidates: Sequence[str]) -> str:
    """The first of ``candidates`` (longest wording first) that fits ``width`` px in ``font``; the
    last one if none does, or if the width is not known yet (0)."""
    metrics = QFontMetricsF(font)
    if width <= 0:
        return candidates[0]
    for text in candidates:
        if metrics.horizontalAdvance(text) + 8 <= width:
            return text
    return candidates[-1]


def readout_label(*, wrap: bool = True) -> QLabel:
    """The centred plain-text line of figures under a panel's plot (styled as "readout")."""
    label = QLabel()
    label.setObjectName("readout")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


def stack_with_readout(panel: QWidget, plot_widget: QWidget, readout: QLabel) -> None:
    """``panel``'s layout: the plot, taking the room, above its readout."""
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(plot_widget, 1)
    layout.addWidget(readout)
