"""Helpers every plot needs: a decade axis for log10 data, and safe arrays for setData.

The plots carry log10 values themselves (norms span 1e-300 … 1e+300, beyond what pyqtgraph's own
log mode can take without overflow warnings), and pyqtgraph must never see inf: non-finite values
become NaN gaps here, and each plot marks them explicitly.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

_SUPERSCRIPT = str.maketrans("0123456789-.", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻·")


def decade_label(exponent: float) -> str:
    """10⁻⁵ for -5; 10³·⁵ for 3.5."""
    text = str(int(exponent)) if float(exponent).is_integer() else f"{exponent:.1f}"
    return "10" + text.translate(_SUPERSCRIPT)


class DecadeAxis(pg.AxisItem):
    """An axis over log10 values, labelled 10ᵏ, with whole decades as ticks."""

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        # The values are exponents: an SI prefix ("x0.001") would rescale the exponents.
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        span = maxVal - minVal
        if not math.isfinite(span) or span <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        if span < 1.5:
            # Less than two decades visible: fall back to ordinary fractional exponents.
            return super().tickSpacing(minVal, maxVal, size)
        # At most one label per ~45 px, and whole decades only.
        max_ticks = max(2.0, size / (45.0 if self.orientation in ("left", "right") else 80.0))
        raw = span / max_ticks
        major = 1.0
        for candidate in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
            major = float(candidate)
            if candidate >= raw:
                break
        minor = 1.0 if major <= 10 and span / 1.0 < size / 8 else major
        levels = [(major, 0.0)]
        if minor < major:
            levels.append((minor, 0.0))
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [decade_label(round(v, 6)) for v in values]


class CountAxis(pg.AxisItem):
    """A linear axis that labels only as many ticks as its length has room for. pyqtgraph always
    labels its major ticks, at least two intervals of them, which on a short panel (a histogram
    at 1280×720 is ~45 px high) writes 0, 200, … 1000 on top of each other."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        span = maxVal - minVal
        if not math.isfinite(span) or span <= 0 or size <= 0:
            return super().tickSpacing(minVal, maxVal, size)
        label_px = QFontMetricsF(self.style["tickFont"] or self.font()).height()
        intervals = max(1.0, size / (2.0 * label_px))  # a label, then a label's height of space
        return [(nice_ceiling(span / intervals), 0.0)]


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


def nice_ceiling(value: float) -> float:
    """The smallest of …, 0.1, 0.2, 0.5, 1, 2, 5, 10, … that is at least ``value`` (> 0).

    View ranges that move in these steps move rarely, and each move repaints the axes."""
    if not (value > 0 and math.isfinite(value)):
        return 1.0
    exponent = math.floor(math.log10(value))
    for mantissa in (1, 2, 5, 10):
        candidate = mantissa * 10.0**exponent
        if candidate >= value * (1 - 1e-12):
            return candidate
    return 10.0 ** (exponent + 1)  # pragma: no cover (float rounding only)


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
            super()._GraphicsWidgetAnchor__geometryChanged()  # type: ignore[misc]


def add_legend(plot: pg.PlotItem, offset: tuple[float, float]) -> Legend:
    """``plot.addLegend(offset=...)`` with a ``Legend``."""
    legend = Legend(offset=offset)
    legend.setParentItem(plot.getViewBox())
    plot.legend = legend
    return legend
