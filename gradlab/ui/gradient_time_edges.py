"""The gradient-through-time plot's vertical extent: the whole-decade limits it shows
(``decade_limits``), and the markers just outside them (``EdgeMarkers``) for the steps no curve can
show: a norm of exactly zero on the bottom edge (underflow, or beyond the truncation window), inf
and nan on the top edge."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pyqtgraph as pg

from gradlab.ui.theme import Theme

# How much of the view lies outside the limits (a fraction of their span on each side): room for
# the edge markers, which sit a little less far out.
VIEW_MARGIN = 0.08
MARKER_MARGIN = 0.06


def decade_limits(bounds: Sequence[tuple[float, float]], current: tuple[float, float] | None) -> tuple[float, float]:
    """Whole-decade limits around ``bounds`` (the finite data's lows and highs), at least three
    decades; ``current`` while it still fits well (it only moves when the data outgrows it)."""
    if not bounds and current is not None:
        # Nothing finite to show (all inf/nan): keep the view, so the fading curves of the
        # updates before the blow-up stay in sight.
        return current
    if bounds:
        low = math.floor(min(b[0] for b in bounds))
        high = math.ceil(max(b[1] for b in bounds))
    else:
        low, high = -1, 1
    if high - low < 2:
        # At least three whole decades in view, each labelled.
        middle = (low + high) / 2
        low, high = math.floor(middle - 1), math.ceil(middle + 1)
    if (
        current is not None
        and current[0] <= low
        and high <= current[1]
        and (high - low) >= 0.7 * (current[1] - current[0])
    ):
        # Still a good fit: moving the view by a decade every few frames would repaint the axes
        # each time and make the picture jump.
        return current
    return (float(low), float(high))


class EdgeMarkers:
    """The four kinds of edge marker, each a scatter item of ``plot`` with a legend entry while it
    marks something (``on_presence(item, present)`` says when that changes)."""

    def __init__(self, plot: pg.PlotItem, on_presence: Callable[[pg.ScatterPlotItem, bool], None]) -> None:
        self.zero = pg.ScatterPlotItem()
        self.truncated = pg.ScatterPlotItem()
        self.inf = pg.ScatterPlotItem()
        self.nan = pg.ScatterPlotItem()
        self.names = {
            self.zero: "exactly 0 (underflow)",
            self.truncated: "0 (truncated)",
            self.inf: "inf",
            self.nan: "nan",
        }
        for item in self.names:
            plot.addItem(item)
            item.setZValue(20)
        self._on_presence = on_presence
        self._x: dict[pg.ScatterPlotItem, tuple[np.ndarray, float]] = {}

    def apply_theme(self, theme: Theme) -> None:
        size = theme.px(theme.marker_size)
        nan = theme.colour("nan_marker")
        # Triangles pointing down fell off the bottom ("t"), pointing up went off the top ("t1").
        for item, symbol, scale, fill, outline in (
            (self.zero, "t", 1.0, theme.colour("zero_marker"), theme.foreground),
            (self.truncated, "t", 0.8, theme.colour("baseline"), theme.foreground),
            (self.inf, "t1", 1.0, theme.colour("inf_marker"), theme.foreground),
            (self.nan, "x", 1.1, nan, nan),
        ):
            item.setSymbol(symbol)
            item.setSize(size * scale)
            item.setBrush(pg.mkBrush(fill))
            item.setPen(pg.mkPen(outline, width=1))

    def update(
        self,
        x: np.ndarray,
        log10_norm: np.ndarray,
        cell_state: np.ndarray | None,
        limits: tuple[float, float],
        truncation: int | None,
    ) -> None:
        """Mark the non-finite steps of ``log10_norm`` (and of ``cell_state``) at steps ``x``, just
        outside ``limits``; zeros at steps from ``truncation`` on are the truncation's."""
        low, high = limits
        span = high - low
        bottom, top = low - MARKER_MARGIN * span, high + MARKER_MARGIN * span
        values = log10_norm if cell_state is None else np.concatenate([log10_norm, cell_state])
        steps = np.tile(x, 1 if cell_state is None else 2)
        zero = np.isneginf(values)
        # Steps beyond the truncation window get no gradient by construction: not an underflow.
        beyond = steps >= truncation if truncation is not None else np.zeros(steps.size, bool)
        for item, mask, level in (
            (self.zero, zero & ~beyond, bottom),
            (self.truncated, zero & beyond, bottom),
            (self.inf, np.isposinf(values), top),
            (self.nan, np.isnan(values), top),
        ):
            xs = np.unique(steps[mask])
            previous = self._x.get(item)
            if previous is None or previous[1] != level or not np.array_equal(previous[0], xs):
                # Setting a scatter's data is slow in pyqtgraph: only when the markers moved.
                self._x[item] = (xs, level)
                item.setData(x=xs, y=np.full(xs.size, level))
            self._on_presence(item, bool(xs.size))
