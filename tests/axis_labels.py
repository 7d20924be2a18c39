"""The tick labels an axis draws, as pyqtgraph lays them out for a paint (for tests of legibility)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter


def drawn_tick_labels(axis: pg.AxisItem) -> list[tuple[QRectF, str]]:
    """Each label the axis would paint now, with its rectangle in the axis's coordinates."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        painter.setFont(axis.style["tickFont"] or axis.font())
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if specs is None:
        return []
    return [(rect, text) for rect, _flags, text in specs[2] if text]
