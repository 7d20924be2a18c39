"""How the window looks: theme and type size, full screen, the control panel shown or hidden, the
keyboard help overlay, the scene's title; and which view takes the plots' place (``PlotViews``).
The View menu's actions are connected here."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Protocol

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from gradlab.core import Config, Frame
from gradlab.ui.actions import SceneToolbar, WindowActions
from gradlab.ui.dock import ControlDock
from gradlab.ui.help_overlay import HelpOverlay
from gradlab.ui.plot_grid import PlotGrid
from gradlab.ui.plot_jacobian import JacobianPanel
from gradlab.ui.plot_phase import PhaseMapPanel
from gradlab.ui.presenter import CaptionBand, Notice
from gradlab.ui.session import SceneState
from gradlab.ui.settings import SavedScene, WindowSettings, save_settings
from gradlab.ui.theme import Theme


class Themed(Protocol):
    def apply_theme(self, theme: Theme) -> None: ...


SCALE_STEP = 1.15
BASE_SIZE = QSize(1280, 720)  # the size every type size is chosen for (theme scale 1)
FIT_STEP = 0.05  # the window's factor moves in steps, so a small drag of its edge re-styles nothing
RESIZE_SETTLE_MS = 150  # re-style once the window has stopped changing size
DEFAULT_SIZE = QSize(1440, 860)
MINIMUM_SIZE = QSize(1024, 600)
# The largest chosen size at which a 1280×720 window still holds every scene legibly (the layout
# audit's test): two steps of Bigger (Ctrl+=) beside the controls, three without them (presenter
# mode). A larger window holds as much larger type, a smaller one less.
LARGEST_SCALE_WITH_CONTROLS = SCALE_STEP**2
LARGEST_SCALE_PRESENTING = SCALE_STEP**3


def window_room(size: QSize) -> float:
    """How large the window is against 1280×720 (in steps of ``FIT_STEP``). At or above 1 it is
    the factor of every type size (caption, controls, toolbar, menus, status bar, plots), so that
    on a 1920×1080 projector the back row reads what it reads at 1280×720."""
    room = min(size.width() / BASE_SIZE.width(), size.height() / BASE_SIZE.height())
    return math.floor(room / FIT_STEP + 1e-9) * FIT_STEP


def dock_beside(dock: QWidget, bands: Sequence[QWidget], views: QWidget) -> QSplitter:
    """The control dock on the left (at its narrowest, hidden by H); on the right the ``bands``
    (caption, notice, banner) above the ``views``, which take the rest."""
    right = QWidget()
    column = QVBoxLayout(right)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    for band in bands:
        column.addWidget(band)
    column.addWidget(views, 1)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(dock)
    splitter.addWidget(right)
    splitter.setStretchFactor(0, 0)
    splitter.setStretchFactor(1, 1)
    splitter.setCollapsible(1, False)
    splitter.setSizes([dock.minimumWidth(), 10_000])
    return splitter


class ViewSwitch:
    """A checkable View action that shows ``alternative`` in ``stack`` in place of ``normal``: the
    phase map instead of the live plots (key M), the why panel or the Jacobian's singular values
    instead of the spectrum (keys Y, J). ``on_shown(visible)`` is told after each switch."""

    def __init__(
        self,
        stack: QStackedWidget,
        normal: QWidget,
        alternative: QWidget,
        action: QAction,
        on_shown: Callable[[bool], None] | None = None,
    ) -> None:
        for widget in (normal, alternative):
            if stack.indexOf(widget) < 0:
                stack.addWidget(widget)
        self.stack, self.normal, self.alternative, self.action = stack, normal, alternative, action
        self.on_shown = on_shown
        action.toggled.connect(self.set_shown)

    @property
    def shown(self) -> bool:
        return self.stack.currentWidget() is self.alternative

    def set_shown(self, visible: bool) -> None:
        if visible:
            self.stack.setCurrentWidget(self.alternative)
        elif self.shown:  # another view of the same stack may have taken its place: leave that one
            self.stack.setCurrentWidget(self.normal)
        if self.action.isChecked() != visible:
            self.action.setChecked(visible)  # emits toggled: set_shown again, which changes nothing
            return
        if self.on_shown is not None:
            self.on_shown(visible)


class PlotViews(QStackedWidget):
    """The plots' place: the four live plots, or instead the phase map (key M) or the per-layer view
    (key L); in the spectrum's place the why panel (Y) or the Jacobian's singular values (J, measured
    only while shown). The per-layer view's heat maps are drawn only while it is shown: it gets the
    latest frame when it appears. ``config`` and ``latest_frame`` read the window's session."""

    def __init__(
        self,
        grid: PlotGrid,
        acts: WindowActions,
        theme: Theme,
        config: Callable[[], Config],
        latest_frame: Callable[[], Frame | None],
    ) -> None:
        super().__init__()
        self.grid, self.config, self.latest_frame = grid, config, latest_frame
        self.phase_panel = PhaseMapPanel(theme)
        self.jacobian_panel = JacobianPanel(theme)
        self.phase = ViewSwitch(self, grid, self.phase_panel, acts.phase_map, self._phase_map_shown)
        self.why = ViewSwitch(grid.top_right, grid.spectrum_plot, grid.why_panel, acts.why)
        self.layers = ViewSwitch(self, grid, grid.layers_panel, acts.layers, self._layers_shown)
        self.jacobian = ViewSwitch(grid.top_right, grid.spectrum_plot, self.jacobian_panel, acts.jacobian)

    def run_started(self, config: Config) -> None:
        self.grid.clear()
        if self.phase.shown:
            self.phase_panel.set_config(config)  # the dot moves; a changed activation or cell recomputes

    def show_frame(self, frame: Frame, config: Config) -> None:
        self.grid.show_frame(frame, config)
        if self.layers.shown:
            self.grid.layers_panel.show_frame(frame)

    def _phase_map_shown(self, visible: bool) -> None:
        if visible:  # computed while it is shown, for the live config
            self.phase_panel.set_config(self.config())

    def _layers_shown(self, visible: bool) -> None:
        frame = self.latest_frame()
        if visible and frame is not None:
            self.grid.layers_panel.show_frame(frame)


class ViewControl:
    def __init__(
        self,
        window: QMainWindow,
        theme: Theme,
        *,
        acts: WindowActions,
        themed: Sequence[Themed],
        caption: CaptionBand,
        dock: ControlDock,
        toolbar: SceneToolbar,
        notice: Notice,
        status: QStatusBar,
        help_overlay: HelpOverlay,
    ) -> None:
        self.window = window
        self.theme = theme  # as chosen (Ctrl+= / Ctrl+- / Ctrl+0, T): what settings remember
        self.shown: Theme | None = None  # as applied: the chosen scale (at most the largest) times the window's factor
        self.room = 1.0  # the window's size against 1280×720 (``window_room``)
        self._plots_theme: Theme | None = None
        self._settle = QTimer(window)
        self._settle.setSingleShot(True)
        self._settle.setInterval(RESIZE_SETTLE_MS)
        self._settle.timeout.connect(self._fit_window)
        self.acts = acts
        self.themed = tuple(themed)
        self.caption = caption
        self.dock = dock
        self.toolbar = toolbar
        self.notice = notice
        self.status = status
        self.help_overlay = help_overlay

    def connect(self) -> None:
        acts = self.acts
        acts.full_screen.toggled.connect(self.set_full_screen)
        acts.bigger.triggered.connect(lambda: self.set_font_scale(self.scale_shown * SCALE_STEP))
        acts.smaller.triggered.connect(lambda: self.set_font_scale(self.scale_shown / SCALE_STEP))
        acts.normal_size.triggered.connect(lambda: self.set_font_scale(1.0))
        acts.hide_controls.toggled.connect(lambda hidden: self.set_controls_visible(not hidden))
        acts.theme_projector.triggered.connect(lambda: self.set_theme("projector"))
        acts.theme_dark.triggered.connect(lambda: self.set_theme("dark"))
        acts.toggle_theme.triggered.connect(lambda: self.set_theme("projector" if self.theme.dark else "dark"))
        acts.escape.triggered.connect(self.escape)
        acts.help.triggered.connect(self.help_overlay.toggle)

    def fit_to_screen(self) -> None:
        self.window.setMinimumSize(MINIMUM_SIZE)
        screen = QGuiApplication.primaryScreen()
        available = screen.availableGeometry().size() if screen is not None else DEFAULT_SIZE
        self.window.resize(DEFAULT_SIZE.boundedTo(available))
        self.room = window_room(self.window.size())

    def show_scene(self, scene: SceneState) -> None:
        """The scene's title and caption (or that the settings are the user's own), the scene ticked
        in the toolbar and the menu, and the window's title."""
        if scene.scenario is None:
            self.caption.set_scene("", "", custom="your own settings")
        else:
            self.caption.set_scene(scene.scenario.title, scene.scenario.caption, custom=scene.changes)
        self.toolbar.show_scene(scene.active_preset)
        self.acts.check_scene(scene.active_preset)
        title = scene.scenario.title if scene.scenario is not None and not scene.modified else "custom"
        self.window.setWindowTitle(f"gradlab — {title}")

    def apply_theme(self, theme: Theme, *, force: bool = False) -> None:
        """Choose ``theme`` (colours and presenter scale) and apply it at the window's size."""
        self.theme = theme
        self._apply(theme.with_scale(self.scale_shown * self.factor), force=force)

    @property
    def factor(self) -> float:
        """How much every type size grows with the window: its room, 1 at or below 1280×720."""
        return max(1.0, self.room)

    @property
    def largest_scale(self) -> float:
        """The largest chosen size that this window holds, with the controls shown or hidden."""
        largest = LARGEST_SCALE_WITH_CONTROLS if self.controls_visible else LARGEST_SCALE_PRESENTING
        return largest * min(1.0, self.room)

    @property
    def scale_shown(self) -> float:
        """The chosen size, at most the largest this window holds (the chosen one is kept: hiding
        the controls or a larger window shows it)."""
        return min(self.theme.scale, self.largest_scale)

    def _apply(self, theme: Theme, *, force: bool = False) -> None:
        """Re-apply colours and sizes everywhere.

        Re-styling every widget and plot takes a noticeable fraction of a second, so a theme
        equal to the one shown (e.g. "Bigger" at the largest size) changes nothing."""
        if theme == self.shown and not force:
            return
        self.shown = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_to_app(app)
        # The window's own sheet depends on the colours only, so a change of size does not make
        # every widget (the plots too) re-style; the named widgets carry their sizes in sheets of
        # their own.
        window_sheet = theme.window_stylesheet()
        if self.window.styleSheet() != window_sheet:
            self.window.setStyleSheet(window_sheet)
        # Widgets polished under a style sheet keep the font they had when they were polished: the
        # application's font alone does not reach them (the controls stayed enlarged after Ctrl+0
        # until the next theme switch). A sheet naming the size re-polishes just these parts.
        size_sheet = f"/* size {theme.scale:g} */"
        for part in (self.dock, self.toolbar, self.status, self.window.menuBar()):
            if part.styleSheet() != size_sheet:
                part.setStyleSheet(size_sheet)
        theme.style_widgets(self.window)
        # The plots' type grows with the window too (their cells are 1.5 times as large at 1920×1080).
        if theme != self._plots_theme or force:
            self._plots_theme = theme
            for panel in self.themed:
                panel.apply_theme(theme)
        self.caption.fit_widths()
        self.dock.fit_width(theme.scale)
        self.acts.theme_dark.setChecked(theme.dark)
        self.acts.theme_projector.setChecked(not theme.dark)
        if not self.help_overlay.isHidden():
            self.help_overlay.place()

    def save_settings(self, scene: SceneState) -> None:
        """Remember the window's place, look and scene for the next start."""
        saved = SavedScene(preset=scene.preset) if scene.preset else SavedScene(scenario=scene.as_scenario())
        theme = self.theme
        save_settings(WindowSettings(self.window.saveGeometry(), theme.name, theme.scale, self.controls_visible, saved))

    def set_theme(self, name: str) -> None:
        self.apply_theme(Theme.named(name, self.theme.scale))

    def set_font_scale(self, scale: float) -> None:
        largest = self.largest_scale
        self.apply_theme(self.theme.with_scale(min(scale, largest)))
        # Short: the status bar's readouts leave it ~30 characters at the largest type.
        message = f"Size {self.theme.scale:.0%}" + (": the largest here" if scale > largest else "")
        self.status.showMessage(message, 4000)

    def set_controls_visible(self, visible: bool) -> None:
        self.dock.setVisible(visible)
        self.toolbar.setVisible(visible)
        if self.acts.hide_controls.isChecked() == visible:
            self.acts.hide_controls.setChecked(not visible)
        self.apply_theme(self.theme)  # the largest size it holds is another

    @property
    def controls_visible(self) -> bool:
        return not self.dock.isHidden()

    def set_full_screen(self, on: bool) -> None:
        if on:
            self.window.showFullScreen()
        else:
            self.window.showNormal()
        if self.acts.full_screen.isChecked() != on:
            self.acts.full_screen.setChecked(on)

    def full_screen_changed(self) -> None:
        """Keep the action's tick in step with the window (the window manager may change it too)."""
        full = self.window.isFullScreen()
        if self.acts.full_screen.isChecked() != full:
            self.acts.full_screen.setChecked(full)

    def escape(self) -> None:
        """Esc closes the topmost thing: the help overlay, then the notice, then full screen."""
        if not self.help_overlay.isHidden():
            self.help_overlay.set_visible(False)
        elif not self.notice.isHidden():
            self.notice.hide()
        elif self.window.isFullScreen():
            self.set_full_screen(False)

    def window_resized(self) -> None:
        if not self.help_overlay.isHidden():
            self.help_overlay.place()
        if window_room(self.window.size()) != self.room:
            if self.window.isVisible():
                self._settle.start()  # while an edge is dragged: once, when it stops
            else:
                self._fit_window()  # sized before it is shown: drawn at its size from the first paint

    def closing(self) -> None:
        """The window closes: no re-style may follow (it would change the application's font)."""
        self._settle.stop()

    @property
    def resizing(self) -> bool:
        """A change of the window's room (and factor) is waiting for the window to stop changing size."""
        return self._settle.isActive()

    def _fit_window(self) -> None:
        room = window_room(self.window.size())
        if room != self.room:
            self.room = room
            self.apply_theme(self.theme)
