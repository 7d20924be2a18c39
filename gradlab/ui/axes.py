"""The plots' axes: a decade axis for log10 data (labels 1eK), linear axes whose labels never
touch, a count axis, and an axis that reserves the room of its title.

The plots carry log10 values themselves (norms span 1e-300 … 1e+300, beyond what pyqtgraph's own
log mode can take without overflow warnings), so a log axis here is a linear axis over exponents.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFontMetricsF


def decade_label(exponent: float) -> str:
    """1e-5 for -5, 1e0 for 0; 3.2e3 for 3.5 (a value between decades, written as a number).

    Full-size digits on purpose: a superscript exponent is ~8 px high and unreadable from the
    back of a lecture hall, and the exponent is the whole point of a decade axis."""
    if float(exponent).is_integer():
        return f"1e{int(exponent)}"
    mantissa, power = f"{10.0**exponent:.1e}".split("e")
    return f"{mantissa}e{int(power)}"


def tick_text_px(axis: pg.AxisItem, text: str) -> tuple[float, float]:
    """Width and height in pixels of one tick label of ``axis``."""
    metrics = QFontMetricsF(axis.style["tickFont"] or axis.font())
    return metrics.horizontalAdvance(text), metrics.height()


# Decades between labels, and between unlabelled ticks under them.
_DECADE_STEPS = (1, 2, 3, 4, 5, 10, 20, 25, 50, 100, 200, 500, 1000)


def _labels_at(low: float, high: float, step: float) -> list[float]:
    """The multiples of ``step`` in [low, high]."""
    first = math.ceil(low / step - 1e-9)
    return [round(i * step, 6) for i in range(first, math.floor(high / step + 1e-9) + 1)]


def _steps(span: float) -> tuple[float, ...]:
    """The steps between labels to choose from: whole decades, or tenths in a narrow view."""
    return tuple(float(s) for s in _DECADE_STEPS) if span >= 2 else (0.1, 0.2, 0.5, 1.0)


def _decade_labels(
    low: float, high: float, *, size: float, label_px: float, line_px: float
) -> tuple[float, list[float]]:
    """The step between labels and the labelled values: the finest step whose labels fit
    (``label_px`` apart); but three labels rather than two wherever three fit at all."""
    steps = _steps(high - low)
    fits = [s for s in steps if len(_labels_at(low, high, s)) <= max(1.0, size / label_px)]
    step = fits[0] if fits else steps[-1]
    chosen = _labels_at(low, high, step)
    if len(chosen) >= 3:
        return step, chosen
    three = [s for s in steps if 3 <= len(_labels_at(low, high, s)) <= size / (line_px * 0.8)]
    if three:
        return three[-1], _labels_at(low, high, three[-1])
    if high - low >= 2 and 3 * line_px * 0.8 <= size:
        # No even step has room for three: the two end decades and the middle one.
        whole = _labels_at(low, high, 1)
        return 1.0, [whole[0], whole[len(whole) // 2], whole[-1]]
    return step, chosen


def _clear_of_the_ends(
    low: float, high: float, step: float, chosen: list[float], *, margin: float, px_per_decade: float, line_px: float
) -> tuple[float, list[float]]:
    """A finer step where fewer than three labels lie ``margin`` inside the ends."""

    def inside(values: list[float]) -> list[float]:
        return [v for v in values if low + margin <= v <= high - margin]

    if not len(inside(chosen)) < 3 <= len(chosen):
        return step, chosen
    finer = [
        s
        for s in _steps(high - low)
        if s < step and len(inside(_labels_at(low, high, s))) >= 3 and s * px_per_decade >= line_px
    ]
    return (finer[-1], _labels_at(low, high, finer[-1])) if finer else (step, chosen)


def _unlabelled_decades(low: float, high: float, step: float, chosen: list[float]) -> tuple[float, list[float]] | None:
    """A tick level for the whole decades between two labels (None where every decade is labelled)."""
    if high - low > 400 or not (step > 1 or len(chosen) < len(_labels_at(low, high, 1))):
        return None
    minor = 1 if step <= 10 else step // 5
    ticks = [float(v) for v in range(math.ceil(low), math.floor(high) + 1) if v % minor == 0]
    return (float(minor) / 2 if minor == step else float(minor), [v for v in ticks if v not in chosen])


class TitledAxis(pg.AxisItem):
    """An axis that reserves the whole height of its title. pyqtgraph reserves 0.8 of it and sets
    the title 5 px into the room of the tick labels: above ~35 px of title (the type of a 1920×1080
    window) the title runs into the labels."""

    def boundingRect(self) -> QRectF:
        # With a grid, pyqtgraph's bounding rect is the axis and its view without the margin it
        # otherwise leaves for labels at the ends, and a label outside it is not drawn: the 0 and
        # the 100 of a short percentage axis in large type went missing.
        rect: QRectF = super().boundingRect()
        if self.grid is not False and self.style["hideOverlappingLabels"] is False:
            own = self.mapRectFromParent(self.geometry())
            margin = _END_LABEL_MARGIN_PX
            vertical = self.orientation in ("left", "right")
            rect |= own.adjusted(0, -margin, 0, margin) if vertical else own.adjusted(-margin, 0, margin, 0)
        return rect

    def _updateHeight(self) -> None:
        super()._updateHeight()
        if self.orientation in ("top", "bottom"):
            self._reserve(self.setMinimumHeight, self.setMaximumHeight, self.maximumHeight())

    def _updateWidth(self) -> None:
        super()._updateWidth()
        if self.orientation in ("left", "right"):
            self._reserve(self.setMinimumWidth, self.setMaximumWidth, self.maximumWidth())

    def _reserve(self, set_min: Callable[[float], None], set_max: Callable[[float], None], size: float) -> None:
        if self.isVisible() and self.fixedHeight is None and self.fixedWidth is None and self.label.isVisible():
            extra = max(0.0, 0.2 * self.label.boundingRect().height() - _TITLE_NUDGE_PX + 1.0)
            set_max(size + extra)
            set_min(size + extra)


_TITLE_NUDGE_PX = 5  # pyqtgraph's AxisItem.resizeEvent: how far the title is set into the axis
_END_LABEL_MARGIN_PX = 15  # pyqtgraph's room beyond an axis's ends for labels (hideOverlappingLabels=False)


class DecadeAxis(TitledAxis):
    """An axis over log10 values, labelled 1eK at whole decades.

    As many labels as fit without touching (measured with the tick font), at least three
    decades apart from the ends whenever the view spans them; the decades between two labels get
    an unlabelled tick. A view narrower than two decades is labelled with values between them.
    """

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        # The values are exponents: an SI prefix ("x0.001") would rescale the exponents.
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        low, high = min(minVal, maxVal), max(minVal, maxVal)
        self._major_step: float | None = None
        if not math.isfinite(high - low) or high <= low or size <= 0:
            return []
        vertical = self.orientation in ("left", "right")
        width, height = tick_text_px(self, "1e-300")
        # Labels with air between them; where that leaves fewer than three, they move closer
        # (pyqtgraph itself takes a label as 0.8 of the font's line height: 0.8 apart never touch).
        label_px = (height * 1.4) if vertical else (width + height)
        step, chosen = _decade_labels(low, high, size=size, label_px=label_px, line_px=height)
        # pyqtgraph drops a label whose text would stick out of the axis: where that leaves fewer
        # than three, a finer step whose labels stay clear of each other and of the ends.
        margin = 0.5 * (height if vertical else width) * (high - low) / size
        step, chosen = _clear_of_the_ends(
            low, high, step, chosen, margin=margin, px_per_decade=size / (high - low), line_px=height
        )
        self._major_step = step
        minor = _unlabelled_decades(low, high, step, chosen)
        return [(step, chosen)] + ([minor] if minor is not None else [])

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        major = getattr(self, "_major_step", None)
        if major is not None and spacing != major:
            return ["" for _ in values]  # the unlabelled decades between two labels
        return [decade_label(round(v, 6)) for v in values]


class DecadeLimits:
    """Whole-decade [low, high] that only grows, around finite log10 values."""

    def __init__(self) -> None:
        self.low = math.inf
        self.high = -math.inf

    def clear(self) -> None:
        self.low, self.high = math.inf, -math.inf

    def include(self, values: np.ndarray | float) -> bool:
        """Widen to hold ``values``; True if the limits changed."""
        values = np.asarray(values, dtype=np.float64)
        finite = values[np.isfinite(values)]
        if not finite.size:
            return False
        low, high = math.floor(float(finite.min())), math.ceil(float(finite.max()))
        if high - low < 2:
            # Three whole decades at least, so that the axis has three labels.
            middle = (low + high) / 2
            low, high = math.floor(middle - 1), math.ceil(middle + 1)
        changed = low < self.low or high > self.high
        self.low, self.high = min(self.low, low), max(self.high, high)
        return changed

    def view(self) -> tuple[float, float] | None:
        if not math.isfinite(self.low):
            return None
        span = self.high - self.low
        return self.low - 0.04 * span, self.high + 0.04 * span


def labelled_decades(axis: pg.AxisItem) -> list[float]:
    """The whole decades ``axis`` writes a label at, inside its current view (for the tests)."""
    low, high = sorted(axis.range)
    values: list[float] = []
    for spacing, ticks in axis.tickValues(
        low, high, axis.geometry().height() if axis.orientation in ("left", "right") else axis.geometry().width()
    ):
        strings = axis.tickStrings(ticks, 1.0, spacing)
        values += [v for v, text in zip(ticks, strings) if text and float(v).is_integer() and low <= v <= high]
    return sorted(set(values))


class FittingAxis(TitledAxis):
    """A linear axis whose labels never touch: the tick spacing is the smallest 1-2-5 step at
    which the widest label (measured with the tick font) fits between two ticks. pyqtgraph
    spaces ticks by a fixed pixel density, which writes "0.0020.004" on a narrow histogram."""

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        # The labels carry their own exponent (2e32): a "(x1e+27)" beside the axis title is
        # easy to miss and makes the numbers on the axis wrong by itself.
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:
        span = abs(maxVal - minVal)
        if not math.isfinite(span) or span <= 0 or size <= 0:
            return list(super().tickSpacing(minVal, maxVal, size))
        low = min(minVal, maxVal)
        step = nice_ceiling(span / max(1.0, size / 40.0))
        for _ in range(8):  # each pass takes the next 1-2-5 step; a few always suffice
            if self._labels_fit(low, span, size, step):
                break
            step = nice_ceiling(step * 1.01)
        # Fewer than three labels (a short axis in large type): a smaller step while they still do
        # not touch.
        while len(_multiples(low, span, step)) < 3 and self._labels_fit(low, span, size, _nice_below(step), air=1.1):
            step = _nice_below(step)
        return [(step, 0.0)]

    def _labels_fit(self, low: float, span: float, size: float, step: float, air: float = 1.3) -> bool:
        """Whether the labels ``step`` apart have room between them (measured with the tick font):
        ``air`` times a label's height on a vertical axis."""
        values = _multiples(low, span, step)
        width, height = max((tick_text_px(self, t) for t in self.tickStrings(values, 1.0, step)), default=(0, 0))
        need_px = height * air if self.orientation in ("left", "right") else width + (air - 0.5) * height
        return step * size / span >= need_px

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        # Round to the spacing's precision, so that 0.30000000000000004 reads 0.3.
        digits = max(0, -math.floor(math.log10(spacing))) if spacing > 0 and math.isfinite(spacing) else 0
        if spacing >= 1e5 or (0 < spacing < 1e-3):
            return [_short_e(v) if v != 0 else "0" for v in values]
        return [f"{v:.{digits}f}" if v != 0 else "0" for v in values]


def _multiples(low: float, span: float, step: float) -> list[float]:
    """The multiples of ``step`` from ``low`` to ``low + span`` (unrounded: tiny steps stay exact)."""
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((low + span - first) / step + 1e-9) + 1)]


def _nice_below(value: float) -> float:
    """The largest of …, 0.1, 0.2, 0.5, 1, 2, 5, 10, … below ``value`` (> 0)."""
    exponent = math.floor(math.log10(value))
    for mantissa in (5, 2, 1):
        if mantissa * 10.0**exponent < value * (1 - 1e-9):
            return mantissa * 10.0**exponent
    return 0.5 * 10.0**exponent


def _short_e(value: float) -> str:
    """2e-4, -5e6: the shortest exponent form of a round tick value."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa.removesuffix('.0')}e{int(exponent)}"


class CountAxis(FittingAxis):
    """A count axis from 0: as many labels as its length has room for, and on a panel too short
    for two (a histogram at 1280×720 with large fonts) only the top one. pyqtgraph always labels
    its major ticks, at least two intervals of them, which writes 0, 200, … 1000 on top of each other."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        levels: list[tuple[float, list[float]]] = super().tickValues(minVal, maxVal, size)
        if not levels or size <= 0:
            return levels
        spacing, values = levels[0]
        _, height = tick_text_px(self, "0")
        gap_px = height * 0.9
        span = abs(maxVal - minVal) or 1.0
        kept: list[float] = []
        for value in sorted(values, reverse=True):  # the top label first: it tells the scale
            if all(abs(value - other) * size / span >= gap_px for other in kept):
                kept.append(value)
        return [(spacing, sorted(kept))]


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
