"""The gradient-through-time plot's legend: its wordings (the slopes, the theory a predicted curve
comes from) and ``WordedLegend``, a legend above the data whose entries each have several
wordings, longest first, of which it shows the longest that need no more rows than the shortest.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontMetricsF

from gradlab.core import prediction
from gradlab.ui.plot_common import Legend, fit_legend, format_number, legend_above, legend_columns
from gradlab.ui.theme import Theme

LATEST = "latest"
THEORY = "theory bound"
# The legend's wordings, longest first (see ``WordedLegend.fit``): a row of entries more would
# take a row of the data's height, which a short plot (1280×720, large fonts) cannot spare.
LEGEND_LEVELS = 4
SHORT_KINDS = {  # the theories' names where the legend is short of room
    prediction.KIND_MEAN_FIELD: "mean field",
    prediction.KIND_MEAN_FIELD_THROUGH_W: "mean field, W",
    prediction.KIND_LINEAR: "log10 ρ",
    prediction.KIND_UNIT_PATH: "unit paths",
    prediction.KIND_CELL_PATH: "Π f",
    prediction.KIND_UPDATE_PATH: "Π z",
}


def slope_text(value: float, unit: str = "step") -> str:
    """Decades per ``unit`` ("step" back in time, or "layer" back through a deep net): the axis is
    in decades."""
    if not math.isfinite(value):
        return format_number(value)
    return f"{value:+.3f}/{unit}"


def predicted_suffix(value: float) -> str:
    """ " (predicted -0.210)" after the measured slope; "" without a prediction."""
    if not math.isfinite(value):
        return ""
    return f" (predicted {value:+.3f})"


def prediction_labels(kind: str, slope: float, unit: str = "step") -> tuple[str, ...]:
    """The legend's wordings for the predicted curve (LEGEND_LEVELS, longest first): what theory
    it is, and its slope where the latest curve's entry has no room to say it."""
    full = kind or "predicted"
    short = SHORT_KINDS.get(kind, "predicted")
    return (
        f"predicted: {full}",
        f"{full}: {slope_text(slope, unit)}",
        f"{short}: {slope_text(slope, unit)}",
        f"predicted {slope_text(slope, unit)}",
    )


def nonfinite_word(values: np.ndarray) -> str:
    if np.isnan(values).any():
        return "nan"
    return "inf" if np.isposinf(values).any() else "0"


class WordedLegend:
    """The legend of ``widget``'s plot, in a row of its own above the data (no curve can pass under
    it), in as many columns as fit the plot's width (large fonts, long labels, a narrow window)."""

    def __init__(self, widget: pg.PlotWidget, theme: Theme) -> None:
        self._widget = widget
        self.theme = theme
        self.legend: Legend = legend_above(widget.getPlotItem())
        self._texts: dict[int, str] = {}  # what each entry shows now
        self._variants: dict[int, tuple[str, ...]] = {}  # its wordings, LEGEND_LEVELS of them

    def add(self, item: object, text: str) -> None:
        self.legend.addItem(item, text)

    def add_new(self, item: object, text: str) -> None:
        """An entry for an item just made (its id may have been a removed item's: not its wordings)."""
        self.legend.addItem(item, text)
        self._texts.pop(id(item), None)
        self._variants.pop(id(item), None)

    def remove(self, item: object) -> None:
        self.legend.removeItem(item)

    def forget(self, item: object) -> None:
        """Remove ``item``'s entry and its wordings."""
        self.legend.removeItem(item)
        self._texts.pop(id(item), None)
        self._variants.pop(id(item), None)

    def insert_before(self, item: object, before: object, variants: tuple[str, ...]) -> None:
        """Add ``item``'s entry just before ``before``'s (which keeps the text it shows)."""
        before_text = self._texts.get(id(before), self._label_of(before))
        self.legend.removeItem(before)
        self.legend.addItem(item, variants[0])
        self.legend.addItem(before, before_text)
        self._texts[id(item)] = variants[0]
        self._variants[id(item)] = variants

    def text_of(self, item: object) -> str:
        """What ``item``'s entry shows ("" where it has not been given a text)."""
        return self._texts.get(id(item), "")

    def entries(self) -> list[str]:
        """The legend's current entries (for tests and screenshots)."""
        return [label.text for _, label in self.legend.items]

    def set_text(self, item: object, text: str | tuple[str, ...]) -> None:
        """Set an entry's text: one wording, or LEGEND_LEVELS of them, longest first."""
        variants = (text,) * LEGEND_LEVELS if isinstance(text, str) else tuple(text)
        if self._variants.get(id(item)) == variants:
            return
        self._variants[id(item)] = variants
        self.fit()

    def changed(self) -> None:
        """An entry came or went: restyle, and make the strip above the data fit the rows."""
        self.theme.style_legend(self.legend)
        self.fit()

    def fit(self) -> None:
        """The longest wordings that need no more rows than the shortest ones, in as many columns
        as fit the plot's width."""
        widget = self._widget
        plot = widget.getPlotItem()
        if plot is None:  # closed
            return
        # The data area's width once the plot fits the widget: a legend wider than that holds the
        # plot item wider than the widget (its minimum width), so the view box's own width can lag.
        width = min(plot.getViewBox().width(), widget.viewport().width() - (plot.width() - plot.getViewBox().width()))
        items = self.legend.items
        if items and width > 0:
            metrics = QFontMetricsF(self.theme.font(self.theme.axis_font_pt))
            # Each entry's width beside its text (sample, margins), from how it is drawn now.
            beside = [
                sample.width() + label.item.boundingRect().width() - metrics.horizontalAdvance(label.text) + 6
                for sample, label in items
            ]
            wordings = [self._variants.get(id(sample.item), (label.text,) * LEGEND_LEVELS) for sample, label in items]

            def widths(level: int) -> list[float]:
                return [b + metrics.horizontalAdvance(w[level]) for b, w in zip(beside, wordings)]

            def rows(level: int) -> int:
                return math.ceil(len(items) / legend_columns(widths(level), width))

            fewest = rows(LEGEND_LEVELS - 1)
            # A wording wider than the plot would be cut off (one entry a row is as few rows as a
            # narrow plot can have, so the row count alone would not tell).
            level = next(
                (level for level in range(LEGEND_LEVELS) if rows(level) <= fewest and max(widths(level)) + 10 <= width),
                LEGEND_LEVELS - 1,
            )
            for (sample, _), words in zip(items, wordings):
                self._show(sample.item, words[level])
        fit_legend(self.legend, width)
        if plot.width() > widget.viewport().width() + 0.5:
            # Held wider than the widget by the legend's old width: fit the widget again once the
            # legend has laid out its new columns.
            QTimer.singleShot(0, self._fit_plot_to_view)

    def _fit_plot_to_view(self) -> None:
        widget = self._widget
        # Queued: the window may have closed meanwhile, its plot item gone with its scene.
        with contextlib.suppress(RuntimeError):
            plot = widget.getPlotItem()
            if plot is not None and plot.width() > widget.viewport().width() + 0.5:
                plot.setGeometry(widget.range)

    def _show(self, item: object, text: str) -> None:
        if self._texts.get(id(item)) == text:
            return
        self._texts[id(item)] = text
        for sample, label in self.legend.items:
            if sample.item is item:
                label.setText(text)
                break

    def _label_of(self, item: object) -> str:
        return next((label.text for sample, label in self.legend.items if sample.item is item), "")
