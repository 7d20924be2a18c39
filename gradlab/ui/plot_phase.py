"""The phase-map panel: where vanishing turns into exploding, with the mean-field edge and "you are here".

The map (``gradlab.core.phase_map``) is computed in a pool of processes, driven from a plain
thread that only waits for them; its rows are handed to the GUI thread through a queue, which a
timer drains, so the map fills in row by row while the live run goes on. The GUI thread never
computes a point.
"""

from __future__ import annotations

import concurrent.futures
import math
import os
import queue
import threading
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gradlab.core.config import FIELDS, Config
from gradlab.core.files import atomic_path
from gradlab.core.phase_map import PhaseMap, compute_phase_map, default_cache_dir
from gradlab.core.phase_point import PhaseMapError, PhaseMapSpec, make_axis
from gradlab.core.phase_pool import PhaseRow, make_pool, stop_pool
from gradlab.ui.phase_axes import (
    COLOUR_MAP,
    PRESETS,
    TRAINING_ONLY,
    AxisPreset,
    axis_label,
    bar_colour_map,
    colour_image,
    colour_levels,
    describe_base,
    map_caption,
    presets_for,
    quantity_label,
    zero_contour,
)
from gradlab.ui.theme import DEFAULT_THEME, Theme

DRAIN_INTERVAL_MS = 50
TRAINABILITY_CAP = 2.0  # log10 of loss / baseline shown at most (100×)


class PhaseMapPanel(QWidget):
    """The map as an image with a colour bar, the mean-field edge of chaos, and the live run's point.

    ``point_chosen`` is emitted with ``{x_field: value, y_field: value}`` when the map is clicked:
    the window sets those controls and restarts its run there.
    """

    point_chosen = Signal(dict)
    map_finished = Signal()

    def __init__(
        self,
        theme: Theme = DEFAULT_THEME,
        parent: QWidget | None = None,
        *,
        workers: int | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        presets: tuple[AxisPreset, ...] = PRESETS,
    ) -> None:
        super().__init__(parent)
        self._theme = theme
        # One core is left to the live run and the window (on a 2-core machine: one process).
        self._workers = workers or max(1, (os.cpu_count() or 2) - 1)
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._use_cache = use_cache
        self._pool: concurrent.futures.Executor | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._rows: queue.Queue[tuple[int, object]] = queue.Queue()
        self._generation = 0
        self._config: Config | None = None
        self._spec: PhaseMapSpec | None = None
        self._presets = presets
        self._offered = presets_for("rnn", presets)
        self._preset = self._offered[0]
        self._values: np.ndarray = np.full((1, 1), np.nan)
        self._predicted: np.ndarray = np.full((1, 1), np.nan)
        self._rows_done = 0
        self._levels = (-1.0, 1.0)
        self._interactive = True
        self.finished_map: PhaseMap | None = None
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self._drain)
        self.apply_theme(theme)

    # ---- building ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.preset_combo = QComboBox()
        self.preset_combo.addItems([preset.name for preset in self._offered])
        self.preset_combo.setToolTip("Which two controls the map spans")
        self.preset_combo.currentIndexChanged.connect(self._on_preset)
        self.progress_label = QLabel()
        self.progress_label.setObjectName("note")
        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 2)
        self.axes_label = QLabel("Axes")
        top.addWidget(self.axes_label)
        top.addWidget(self.preset_combo)
        top.addWidget(self.progress_label, 1)

        self.plot_widget = pg.GraphicsLayoutWidget()
        plot = self.plot_widget.addPlot(0, 0)
        self.plot = plot
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        for name in ("left", "bottom"):
            plot.getAxis(name).enableAutoSIPrefix(False)  # "learning rate (x0.001)" reads as a different number
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.critical_line = pg.PlotDataItem(connect="finite", antialias=True)
        self.critical_line.setZValue(5)
        plot.addItem(self.critical_line)
        self.here = pg.ScatterPlotItem()
        self.here.setZValue(10)
        plot.addItem(self.here)
        self.colour_bar = pg.ColorBarItem(
            values=(-1.0, 1.0), colorMap=COLOUR_MAP, interactive=False, width=self._theme.px(18), rounding=1e-6
        )
        self.plot_widget.addItem(self.colour_bar, 0, 1)
        self.plot_widget.scene().sigMouseClicked.connect(self._on_click)

        self.caption = QLabel()
        self.caption.setObjectName("note")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.caption)

    def apply_theme(self, theme: Theme) -> None:
        self._theme = theme
        plot = self.plot
        self.plot_widget.setBackground(theme.background)
        theme.style_plot(plot)
        bar_axis = self.colour_bar.axis
        bar_axis.setPen(pg.mkPen(theme.foreground))
        bar_axis.setTextPen(pg.mkPen(theme.foreground))
        bar_axis.setStyle(tickFont=theme.font(theme.axis_font_pt))
        bar_axis.label.setFont(theme.font(theme.label_font_pt))
        # Room for the tick labels and the label beside them (the bar's axis does not make it).
        bar_axis.setWidth(int(theme.px(90)))
        bar_axis.enableAutoSIPrefix(False)  # the ticks are labelled in decades, not in thousandths
        # Drawn over the map, whose colours are the same in both themes: the edge of chaos runs
        # through the white (slope 0), so it is black in both; the dot is black ringed with white.
        self.critical_line.setPen(
            pg.mkPen("#000000", width=theme.line_px(theme.line_width), style=Qt.PenStyle.DashLine)
        )
        self.here.setPen(pg.mkPen("#FFFFFF", width=theme.line_px(2)))
        self.here.setBrush(pg.mkBrush("#000000"))
        self.here.setSize(theme.px(theme.marker_size * 1.4))
        theme.style_widgets(self)
        self._update_labels()

    # ---- public -----------------------------------------------------------------------------
    @property
    def spec(self) -> PhaseMapSpec | None:
        return self._spec

    @property
    def rows_done(self) -> int:
        return self._rows_done

    @property
    def computing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def set_preset(self, index: int) -> None:
        self.preset_combo.setCurrentIndex(index)

    def set_config(self, config: Config) -> None:
        """The live run's config: moves the dot; recomputes the map if what it depends on changed."""
        self._config = config
        self._offer(presets_for(config.cell, self._presets))
        spec = self._spec_for(config)
        if spec is None or self._spec is None or spec.key() != self._spec.key():
            self._start(spec)
        self._update_here()

    def show_map(self, phase_map: PhaseMap) -> None:
        """Show a finished map (its slope) as it is, with no live run: the axes are the map's own."""
        self._stop_thread()
        self._generation += 1
        self._preset = AxisPreset("", ("", 0, 0, 0), ("", 0, 0, 0))
        self.preset_combo.hide()
        self.axes_label.hide()
        self.progress_label.hide()
        self._interactive = False
        self._spec = phase_map.spec
        self.finished_map = phase_map
        self._rows_done = phase_map.spec.shape[0]
        self._values = np.array(phase_map.slope)
        self._predicted = np.array(phase_map.predicted_slope)
        self._place_image()
        self._redraw()
        self._update_here()
        self._update_labels()

    def shutdown(self) -> None:
        """Stop the computation and the pool's processes (before the window closes)."""
        self._stop_thread()
        if self._pool is not None:
            stop_pool(self._pool)
            self._pool = None
        self._timer.stop()

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802 (Qt's name)
        self.shutdown()
        super().closeEvent(event)

    # ---- the computation ---------------------------------------------------------------------
    def _spec_for(self, config: Config) -> PhaseMapSpec | None:
        preset = self._preset
        try:
            x_axis = make_axis(*preset.x)
            y_axis = make_axis(*preset.y)
            # The map does not depend on the live values of its own two fields (it spans them),
            # nor, for a slope map, on the training settings: one map serves while those move.
            neutral = {x_axis.field: x_axis.values[0], y_axis.field: y_axis.values[0], "iterations": None}
            neutral.update(preset.fixed)
            if preset.trainability is None:
                defaults = Config()
                neutral.update({name: getattr(defaults, name) for name in TRAINING_ONLY if name in FIELDS})
            base = config.replace(**neutral)
            return PhaseMapSpec(base, x_axis, y_axis, trainability=preset.trainability)
        except (PhaseMapError, ValueError) as error:
            self.progress_label.setText(str(error))
            return None

    def _start(self, spec: PhaseMapSpec | None) -> None:
        self._stop_thread()
        self._generation += 1
        self._spec = spec
        self.finished_map = None
        self._rows_done = 0
        if spec is None:
            return
        ny, nx = spec.shape
        self._values = np.full((ny, nx), np.nan)
        self._predicted = np.full((ny, nx), np.nan)
        self._place_image()
        self._redraw()
        if self._pool is None:
            self._pool = make_pool(self._workers, nice=5)
        self._cancel = threading.Event()
        generation, cancel, pool, rows = self._generation, self._cancel, self._pool, self._rows
        # Resolved now, not when the panel was made: the user cache folder (or $XDG_CACHE_HOME) as it is.
        folder = (self._cache_dir or default_cache_dir()) if self._use_cache else None

        def work() -> None:
            try:
                result = compute_phase_map(
                    spec,
                    executor=pool,
                    cancel=cancel,
                    on_row=lambda row: rows.put((generation, row)),
                    cache_dir=folder,
                )
                rows.put((generation, result))
            except Exception as error:  # noqa: BLE001 - shown on the panel, never lost
                rows.put((generation, error))

        self._thread = threading.Thread(target=work, name="phase-map", daemon=True)
        self._thread.start()
        self._timer.start()
        self._update_labels()

    def _stop_thread(self) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _drain(self) -> None:
        changed = False
        while True:
            try:
                generation, item = self._rows.get_nowait()
            except queue.Empty:
                break
            if generation != self._generation:
                continue  # a superseded map's row
            if isinstance(item, PhaseRow):
                self._values[item.index] = self._quantity(item)
                self._predicted[item.index] = item.predicted_slope
                self._rows_done += 1
                changed = True
            elif isinstance(item, PhaseMap):
                self.finished_map = item
                self._timer.stop()
                self.map_finished.emit()
            elif isinstance(item, Exception):
                self.progress_label.setText(f"Could not compute the map: {item}")
                self._timer.stop()
        if changed:
            self._redraw()
        self._update_labels()

    def _quantity(self, row: PhaseRow) -> np.ndarray:
        if self._preset.quantity == "total":
            return row.total_log10_ratio
        if self._preset.quantity == "trainability" and row.loss_ratio is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.log10(row.loss_ratio)
            # A run that diverged (inf) or ended 100× above the baseline: the darkest red, not a hole.
            return np.where(np.isnan(row.loss_ratio), np.nan, np.minimum(ratio, TRAINABILITY_CAP))
        return row.slope

    # ---- drawing ----------------------------------------------------------------------------
    def _place_image(self) -> None:
        if self._spec is None:
            return
        x, y = np.array(self._spec.x.values, float), np.array(self._spec.y.values, float)
        dx = (x[-1] - x[0]) / (len(x) - 1) if len(x) > 1 else 1.0
        dy = (y[-1] - y[0]) / (len(y) - 1) if len(y) > 1 else 1.0
        rect = QRectF(x[0] - dx / 2, y[0] - dy / 2, dx * len(x), dy * len(y))
        self.image.setImage(colour_image(self._values, (-1.0, 1.0)), autoLevels=False)
        self.image.setRect(rect)
        plot = self.plot
        plot.setXRange(rect.left(), rect.right(), padding=0)
        plot.setYRange(rect.top(), rect.bottom(), padding=0)
        plot.setTitle(
            describe_base(self._spec),
            color=self._theme.foreground,
            size=f"{self._theme.pt(self._theme.title_font_pt):.1f}pt",
        )
        cell = self._spec.base.cell
        plot.setLabel("bottom", axis_label(self._spec.x.field, cell))
        plot.setLabel("left", axis_label(self._spec.y.field, cell))
        self._theme.style_plot(plot)

    def _redraw(self) -> None:
        if self._spec is None:
            return
        levels = colour_levels(self._values)
        self.image.setImage(colour_image(self._values, levels), autoLevels=False)
        if levels != self._levels:
            self._levels = levels
            self.colour_bar.setColorMap(bar_colour_map(levels))
            self.colour_bar.setLevels(levels)
            low, high = levels
            # Half-way ticks only on a side long enough for them not to crowd the labels.
            ticks = [low, 0.0, high]
            ticks += [end / 2 for end in (low, high) if abs(end) >= 0.25 * (high - low)]
            self.colour_bar.axis.setTicks([[(v, f"{v:+.3g}" if v else "0") for v in ticks]])
        x, y = np.array(self._spec.x.values, float), np.array(self._spec.y.values, float)
        self.critical_line.setData(*zero_contour(x, y, self._predicted))

    def _update_here(self) -> None:
        if self._config is None or self._spec is None:
            self.here.setData([], [])
            return
        px = float(getattr(self._config, self._spec.x.field) or math.nan)
        py = float(getattr(self._config, self._spec.y.field) or math.nan)
        # No dot where the live run has no value on an axis (the bias scale at each cell's default).
        self.here.setData(*(([px], [py]) if math.isfinite(px) and math.isfinite(py) else ([], [])))
        self._update_labels()

    def _update_labels(self) -> None:
        if self._spec is None:
            return
        ny, _ = self._spec.shape
        unit = quantity_label(self._preset, self._spec.base.cell)
        self.colour_bar.axis.setLabel(unit, color=self._theme.foreground)
        if self.finished_map is not None:
            state = "from the cache" if self.finished_map.from_cache else "done"
        else:
            state = f"computing: {self._rows_done}/{ny} rows"
        self.progress_label.setText(state)
        has_line = bool(np.isfinite(self._predicted).any())
        self.caption.setText(map_caption(self._preset, self._spec, self._config, has_line, self._interactive))

    def _offer(self, presets: tuple[AxisPreset, ...]) -> None:
        """The presets of the cell's kind in the list (depth mode's axes are not the RNN's)."""
        if presets == self._offered:
            return
        self._offered, self._preset = presets, presets[0]
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.clear()
            self.preset_combo.addItems([preset.name for preset in presets])

    def _on_preset(self, index: int) -> None:
        self._preset = self._offered[index]
        if self._config is not None:
            self._spec = None
            self.set_config(self._config)

    def _on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        if self._spec is None or not self._interactive or event.button() != Qt.MouseButton.LeftButton:
            return
        plot = self.plot
        if not plot.sceneBoundingRect().contains(event.scenePos()):
            return
        point = plot.vb.mapSceneToView(event.scenePos())
        self.point_chosen.emit(self.values_at(point.x(), point.y()))

    def values_at(self, x: float, y: float) -> dict[str, float]:
        """The two controls' values for a point of the map: within the axes' ranges, rounded for
        integer fields."""
        assert self._spec is not None
        chosen: dict[str, float] = {}
        for axis, value in ((self._spec.x, x), (self._spec.y, y)):
            low, high = min(axis.values), max(axis.values)
            value = min(max(value, low), high)
            chosen[axis.field] = int(round(value)) if FIELDS[axis.field].kind == "int" else float(f"{value:.3g}")
        return chosen


def render_png(phase_map: PhaseMap, path: str | os.PathLike[str], size: tuple[int, int] = (1280, 720)) -> Path:
    """Draw a finished map as the panel does and save it as a PNG (no computation, no window)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    DEFAULT_THEME.apply_to_app(app)  # type: ignore[arg-type]
    panel = PhaseMapPanel(use_cache=False)
    try:
        panel.show_map(phase_map)
        panel.resize(*size)
        panel.show()
        app.processEvents()
        image = panel.grab()
        with atomic_path(path) as temporary:
            if not image.save(str(temporary), "PNG"):
                raise OSError(f"could not write {path}")
        return Path(path)
    finally:
        panel.close()
