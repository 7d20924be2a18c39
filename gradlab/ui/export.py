"""Export the plots as a slide: PNG (1920×1080 pixels) or PDF (1920×1080 points, vector).

Both formats are painted by one function, ``paint_slide``: a heading band (scene title, the key
parameters, the readouts and the iteration) above the plots area rendered exactly as it is laid
out on screen, scaled uniformly to fill the rest of the slide. The PDF is therefore the PNG's
geometry in vector form. It replaces the SVG export: Qt's ``QSvgGenerator`` writes pyqtgraph's
clipped, transformed items so that QtSvg and browsers place axes and symbols differently from
the screen, while Qt's PDF engine and poppler draw them where the screen does (the tests render
the PDF with ``pdftoppm`` and compare it with the PNG).

The plots are rendered as QWidget.render draws them, with every pyqtgraph item in export mode
(scatter symbols as vector paths, not fragments of a cached pixmap) and with any mouse zoom
undone for the time of the export and put back afterwards: a slide shows the plots' own views.

Files are written atomically (``atomic_write``): the bytes are made in memory, written to a
temporary file in the target's folder, flushed, fsynced and moved over the target, so a failed
export leaves the previous file as it was. Every failure is an ``ExportError`` whose text is one
line saying why.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPoint, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from gradlab.core import Config, files
from gradlab.core.frame import Frame
from gradlab.ui.pins import field_words
from gradlab.ui.plot_common import ZoomReset, format_number

SLIDE_SIZE = (1920, 1080)  # a 16:9 slide at full HD: what a projector and a slide deck show
_MARGIN = 0.022  # of the slide's height, around the heading and the plots


class ExportError(OSError):
    """An export that could not be written; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class Heading:
    """What the slide says above the plots."""

    title: str
    parameters: str = ""  # the key settings in the words of the screen
    readouts: tuple[tuple[str, str], ...] = ()  # (name, value), e.g. ("ρ", "0.982")


# The settings a viewer needs to read a slide; the rest are in the saved scene.
_KEY_FIELDS = ("cell", "activation", "hidden_size", "seq_len", "w_rec_scale", "init", "task", "optimizer", "lr")


def key_parameters(config: Config) -> str:
    """The key settings of a run in the words of the screen, e.g. "RNN, tanh, H 64, T 100, …"."""
    parts = [field_words(name, getattr(config, name)) for name in _KEY_FIELDS]
    if config.clip != "none":
        parts.append(f"clipping by {config.clip} at {config.clip_threshold:g}")
    if config.truncation is not None:
        parts.append(field_words("truncation", config.truncation))
    return ", ".join(parts)


def heading_for(title: str, config: Config, frame: Frame | None) -> Heading:
    """The slide's heading for a run showing ``frame`` (None before its first update)."""
    if frame is None:
        return Heading(title, key_parameters(config), (("iteration", "–"),))
    slope = frame.fitted_slope
    slope_text = f"{slope:+.3f}" if math.isfinite(slope) and abs(slope) < 1e4 else format_number(slope)
    readouts = (
        ("ρ", format_number(frame.spectral_radius)),
        ("σ_max", format_number(frame.sigma_max)),
        ("slope/layer" if frame.layer_stats is not None else "slope/step", slope_text),
        ("iteration", f"{frame.iteration:,}"),
    )
    return Heading(title, key_parameters(config), readouts)


# ---- writing files --------------------------------------------------------------------------------
def check_target(path: Path) -> None:
    """Refuse, with the reason, a target that cannot be written (before any work is done)."""
    folder = path.parent
    if not folder.exists():
        raise ExportError(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder")
    if path.exists() and not path.is_file():
        raise ExportError(f"{path.name} exists and is not a regular file")


def atomic_write(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (``gradlab.core.files``: a temporary file in the same
    folder, flushed, fsynced, then os.replace), so a reader sees the old file or the new one,
    never a part; on any failure the old file is untouched and an ``ExportError`` says why."""
    path = Path(path)
    with atomic_target(path) as temporary, open(temporary, "wb") as handle:
        handle.write(data)
    return path


@contextlib.contextmanager
def atomic_target(path: str | Path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder for a writer that needs a file name (an encoder);
    it replaces ``path`` when the block ends normally and is removed otherwise. Its name does not
    end like ``path``: a writer that guesses the format from the name must be told it."""
    path = Path(path)
    check_target(path)
    try:
        with files.atomic_path(path) as temporary:
            yield temporary
    except ExportError:
        raise
    except OSError as error:
        raise ExportError(error.strerror or str(error)) from error


# ---- painting ----------------------------------------------------------------------------------
@contextlib.contextmanager
def _export_mode(area: QWidget) -> Iterator[None]:
    """Every item of the area's plots in pyqtgraph's export mode (as its exporters do) and
    without its pixmap cache: symbols and circles are painted as vector paths, not as cached
    screen pixmaps (which a PDF would embed as blurred images)."""
    views = area.findChildren(QGraphicsView)
    items = [item for view in views if view.scene() is not None for item in view.scene().items()]
    cached = [(item, item.cacheMode()) for item in items if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    exported = [item for item in items if hasattr(item, "setExportMode")]
    # The views cache their background as a pixmap, which a PDF would embed as a JPEG per plot.
    view_caches = [(view, view.cacheMode()) for view in views]
    for view, _ in view_caches:
        view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        view.resetCachedContent()
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
        for view, view_mode in view_caches:
            view.setCacheMode(view_mode)


@contextlib.contextmanager
def _unzoomed(area: QWidget) -> Iterator[None]:
    """The plots' own views while exporting: a mouse zoom is undone, and put back afterwards (the
    lecturer zoomed to look at something; exporting must not take that away)."""
    buttons = [button for button in area.findChildren(ZoomReset) if button.zoomed]
    if not buttons:
        yield
        return
    boxes = [
        item
        for view in area.findChildren(QGraphicsView)
        if view.scene() is not None
        for item in view.scene().items()
        if isinstance(item, pg.ViewBox)
    ]
    saved = [(box, box.viewRange(), list(box.state["autoRange"])) for box in boxes]
    for button in buttons:
        button.reset()
    try:
        yield
    finally:
        for box, (x_range, y_range), auto in saved:
            box.enableAutoRange(x=auto[0], y=auto[1])
            if not any(auto):
                box.setRange(xRange=x_range, yRange=y_range, padding=0)
        for button in buttons:
            button.zoomed = True
            button.show()


def _prepare(area: QWidget) -> None:
    """pyqtgraph updates its views' transforms lazily, just before a paint: make them current."""
    for view in area.findChildren(QGraphicsView):
        scene = view.scene()
        if scene is not None and hasattr(scene, "prepareForPaint"):
            scene.prepareForPaint()


def plots_rect(area_size: tuple[int, int], heading_height: float, canvas: tuple[int, int]) -> QRectF:
    """Where the plots area lands on a slide of ``canvas`` size: scaled uniformly (the screen's
    geometry) to the largest size below the heading, centred."""
    width, height = canvas
    margin = _MARGIN * height
    room_w = width - 2 * margin
    room_h = height - heading_height - 2 * margin
    scale = min(room_w / max(1, area_size[0]), room_h / max(1, area_size[1]))
    w, h = area_size[0] * scale, area_size[1] * scale
    return QRectF((width - w) / 2, heading_height + margin + (room_h - h) / 2, w, h)


def _font(px: float, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(max(1, round(px)))
    font.setBold(bold)
    return font


def _elided(text: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


@dataclass(frozen=True)
class _HeadingFonts:
    title: QFont
    parameters: QFont
    name: QFont
    value: QFont

    @classmethod
    def for_canvas(cls, canvas: tuple[int, int]) -> _HeadingFonts:
        unit = canvas[1] / 1080  # sizes are for a 1080-pixel-high slide
        return cls(_font(46 * unit, bold=True), _font(27 * unit), _font(22 * unit), _font(40 * unit, bold=True))

    def top_row(self) -> float:
        """The height of the title, or of the readouts (name above value), whichever is taller."""
        readouts = QFontMetricsF(self.name).height() + QFontMetricsF(self.value).height()
        return max(QFontMetricsF(self.title).height(), readouts)


def heading_height(canvas: tuple[int, int]) -> float:
    fonts = _HeadingFonts.for_canvas(canvas)
    return _MARGIN * canvas[1] + fonts.top_row() + QFontMetricsF(fonts.parameters).height()


def _paint_heading(painter: QPainter, heading: Heading, canvas: tuple[int, int], colours: tuple[str, str]) -> None:
    """Title on the left and the readouts (name above value) on the right, then the parameters
    across the whole width (they are the longest line)."""
    width, height = canvas
    margin = _MARGIN * height
    fonts = _HeadingFonts.for_canvas(canvas)
    foreground, muted = QColor(colours[0]), QColor(colours[1])
    value_metrics, name_metrics = QFontMetricsF(fonts.value), QFontMetricsF(fonts.name)
    gap = 34 * height / 1080
    columns = [
        max(value_metrics.horizontalAdvance(value), name_metrics.horizontalAdvance(name))
        for name, value in heading.readouts
    ]
    x = width - margin - sum(columns) - gap * max(0, len(columns) - 1)
    readouts_left = x
    for (name, value), column in zip(heading.readouts, columns, strict=True):
        painter.setFont(fonts.name)
        painter.setPen(muted)
        painter.drawText(QRectF(x, margin, column, name_metrics.height()), Qt.AlignmentFlag.AlignRight, name)
        painter.setFont(fonts.value)
        painter.setPen(foreground)
        top = margin + name_metrics.height()
        painter.drawText(QRectF(x, top, column, value_metrics.height()), Qt.AlignmentFlag.AlignRight, value)
        x += column + gap
    title_metrics = QFontMetricsF(fonts.title)
    painter.setFont(fonts.title)
    painter.setPen(foreground)
    title = _elided(heading.title, fonts.title, max(10.0, readouts_left - gap - margin))
    painter.drawText(QPointF(margin, margin + title_metrics.ascent()), title)
    painter.setFont(fonts.parameters)
    painter.setPen(muted)
    baseline = margin + fonts.top_row() + QFontMetricsF(fonts.parameters).ascent()
    painter.drawText(QPointF(margin, baseline), _elided(heading.parameters, fonts.parameters, width - 2 * margin))


def paint_slide(
    painter: QPainter, area: QWidget, heading: Heading, canvas: tuple[int, int], colours: tuple[str, str, str]
) -> QRectF:
    """Paint the slide (``colours``: background, foreground, muted) and return where the plots
    area was drawn. The caller holds the area in export mode and unzoomed (``slide_context``)."""
    width, height = canvas
    painter.fillRect(QRectF(0, 0, width, height), QColor(colours[0]))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    _paint_heading(painter, heading, canvas, (colours[1], colours[2]))
    target = plots_rect((area.width(), area.height()), heading_height(canvas), canvas)
    painter.save()
    painter.translate(target.topLeft())
    painter.scale(target.width() / max(1, area.width()), target.height() / max(1, area.height()))
    area.render(painter, QPoint(0, 0))
    painter.restore()
    return target


@contextlib.contextmanager
def slide_context(area: QWidget) -> Iterator[None]:
    with _unzoomed(area), _export_mode(area):
        _prepare(area)
        yield


def slide_image(
    area: QWidget, heading: Heading, colours: tuple[str, str, str], canvas: tuple[int, int] = SLIDE_SIZE
) -> QImage:
    """The slide as an image of ``canvas`` pixels."""
    image = QImage(canvas[0], canvas[1], QImage.Format.Format_RGB32)
    image.fill(QColor(colours[0]))
    painter = QPainter(image)
    try:
        with slide_context(area):
            paint_slide(painter, area, heading, canvas, colours)
    finally:
        painter.end()
    return image


def export_png(
    area: QWidget,
    heading: Heading,
    colours: tuple[str, str, str],
    path: str | Path,
    canvas: tuple[int, int] = SLIDE_SIZE,
) -> Path:
    """Write the slide as a PNG of ``canvas`` pixels (1920×1080 by default)."""
    path = Path(path)
    check_target(path)
    image = slide_image(area, heading, colours, canvas)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]  # the stubs want bytes, Qt wants str
        raise ExportError("the PNG encoder failed")
    buffer.close()
    return atomic_write(path, bytes(data.data()))


def export_pdf(
    area: QWidget,
    heading: Heading,
    colours: tuple[str, str, str],
    path: str | Path,
    canvas: tuple[int, int] = SLIDE_SIZE,
) -> Path:
    """Write the slide as a one-page vector PDF of ``canvas`` points (one point per PNG pixel)."""
    path = Path(path)
    check_target(path)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(72)  # one unit of the painter is one point: the page is the PNG's grid
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QSizeF(*canvas), QPageSize.Unit.Point, "slide", QPageSize.SizeMatchPolicy.ExactMatch),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
        )
    )
    writer.setTitle(heading.title)
    writer.setCreator("gradlab")
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportError("Qt's PDF writer could not start")
    try:
        with slide_context(area):
            paint_slide(painter, area, heading, canvas, colours)
    finally:
        painter.end()
    buffer.close()
    if data.size() == 0:
        raise ExportError("Qt's PDF writer produced nothing")
    return atomic_write(path, bytes(data.data()))


def export_slide(area: QWidget, heading: Heading, colours: tuple[str, str, str], path: str | Path) -> Path:
    """PNG or PDF, by the extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".png":
        return export_png(area, heading, colours, path)
    if suffix == ".pdf":
        return export_pdf(area, heading, colours, path)
    raise ExportError(f"{path.name}: plots are exported as .png or .pdf")
