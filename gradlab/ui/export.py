"""Export the four plots as one picture, PNG or SVG.

PNG: each plot through pyqtgraph's ``ImageExporter``, painted into one image where it sits on
screen. SVG: pyqtgraph's ``SVGExporter`` fails on this Qt (6.11): its post-processing splits
every path command at commas and raises on a close-path "Z" (pyqtgraph issue #3485, open), so
each plot's view is rendered by Qt's own ``QSvgGenerator`` (which pyqtgraph's exporter also
draws with) into one document: curves and text stay vectors. Like pyqtgraph's exporters, it puts
the items in export mode meanwhile, so that scatter symbols are drawn as vector paths: on screen
they are fragments of a cached symbol pixmap, which the SVG generator would embed as a PNG image
for every point (0.7-5 s for one export, growing with the cache, and blurred); items cached as
pixmaps (the spectrum's circles) are drawn uncached for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QBuffer, QIODevice, QPoint, QRect, QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView

from gradlab.core.files import atomic_write_bytes, check_regular


@dataclass(frozen=True)
class PlotPiece:
    """One plot to export: the pyqtgraph item and where it sits in the picture (pixels)."""

    item: pg.GraphicsObject
    view: QGraphicsView
    rect: QRect


def _image(item: pg.GraphicsObject, width: int, height: int) -> QImage:
    exporter = ImageExporter(item)
    exporter.parameters()["width"] = width
    exporter.parameters()["height"] = height
    image = exporter.export(toBytes=True)
    if not isinstance(image, QImage):  # pragma: no cover (pyqtgraph's contract)
        raise RuntimeError("pyqtgraph's ImageExporter returned no image")
    return image


def export_png(pieces: Sequence[PlotPiece], size: tuple[int, int], background: str, path: str | Path) -> Path:
    """Write the plots as one PNG of ``size`` (width, height) pixels."""
    path = Path(path)
    picture = QImage(size[0], size[1], QImage.Format.Format_ARGB32)
    picture.fill(QColor(background))
    painter = QPainter(picture)
    try:
        for piece in pieces:
            image = _image(piece.item, max(1, piece.rect.width()), max(1, piece.rect.height()))
            painter.drawImage(QPoint(piece.rect.x(), piece.rect.y()), image)
    finally:
        painter.end()
    # Encoded in memory, then written atomically: a failure gives the system's reason (full disk,
    # no permission) and leaves an existing file as it was.
    return atomic_write_bytes(path, _encoded(picture))


def _encoded(picture: QImage) -> bytes:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not picture.save(buffer, "PNG"):
        raise OSError("the PNG encoder failed (is the picture too large?)")
    return bytes(buffer.data().data())


@contextmanager
def _export_mode(views: Sequence[QGraphicsView]) -> Iterator[None]:
    """Every item of the views' scenes in pyqtgraph's export mode (as its exporters do) and
    without its pixmap cache (which would reach the SVG as an image)."""
    items = [item for view in views for item in view.scene().items()]
    cached = [(item, item.cacheMode()) for item in items if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    exported = [item for item in items if hasattr(item, "setExportMode")]
    for item, _ in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    for item in exported:
        item.setExportMode(True, {"antialias": True})
    try:
        yield
    finally:
        for item in exported:
            item.setExportMode(False)
        for item, mode in cached:
            item.setCacheMode(mode)


def export_svg(
    pieces: Sequence[PlotPiece], size: tuple[int, int], background: str, path: str | Path, *, title: str = "gradlab"
) -> Path:
    """Write the plots as one SVG document (vector curves and text)."""
    path = Path(path)
    width, height = size
    check_regular(path, for_writing=True)  # before the work, not after
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRect(0, 0, width, height))
    generator.setTitle(title)
    generator.setDescription("Plots exported from gradlab")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError("the SVG generator could not start")
    try:
        painter.fillRect(QRectF(0, 0, width, height), QColor(background))
        with _export_mode([piece.view for piece in pieces]):
            for piece in pieces:
                piece.view.render(painter, QRectF(piece.rect), piece.view.viewport().rect())
    finally:
        painter.end()
    data = bytes(buffer.data().data())
    if not data:
        raise OSError("the SVG generator wrote nothing")
    return atomic_write_bytes(path, data)
