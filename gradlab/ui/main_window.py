"""The main window: composes the control dock, the caption band, the plot grid and the status bar
around a Qt-free ``Session`` (the app's state), and wires the actions to what they do.

It computes nothing and holds no state of its own: the session says which scene is shown, what
the last frame was, which runs are pinned and how the run is doing; the widgets draw that.
Lecture-hall features live in the small modules it composes: scenes (``gradlab.presets``), the
caption and big readouts (``presenter``), the plots (``plot_grid``), files (``file_commands``),
the look (``view``), the pace (``pace``), settings (``settings``), the keys (``actions``).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QIcon, QResizeEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from gradlab.core import Config
from gradlab.core.scenario import Scenario
from gradlab.presets import find_preset, neighbour, presets
from gradlab.ui.actions import SceneToolbar, WindowActions
from gradlab.ui.controls import ControlPanel
from gradlab.ui.dock import ControlDock, TransportBar
from gradlab.ui.file_commands import FileCommands
from gradlab.ui.help_overlay import HelpOverlay
from gradlab.ui.pace import Pacer
from gradlab.ui.pins import Pin, PinBoard
from gradlab.ui.plot_grid import PlotGrid
from gradlab.ui.presenter import Banner, CaptionBand, Notice
from gradlab.ui.recording import RunRecorder
from gradlab.ui.session import SceneState, Session, opening_scene
from gradlab.ui.simulation import Delivery, SimulationController
from gradlab.ui.status import RunMessages, StatusPanel
from gradlab.ui.theme import DEFAULT_THEME, Theme
from gradlab.ui.view import PlotViews, ViewControl, dock_beside


class MainWindow(QMainWindow):
    """The gradlab window. ``frame_displayed`` fires after each frame was drawn."""

    frame_displayed = Signal(int, int)  # run id, iteration
    first_painted = Signal()
    scene_loaded = Signal(str)  # the scene's title

    def __init__(
        self,
        config: Config | None = None,
        *,
        theme: Theme = DEFAULT_THEME,
        icon: QIcon | None = None,
        scenario: Scenario | None = None,
        preset_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.installEventFilter(self)
        self.setWindowTitle("gradlab")
        self.setAcceptDrops(True)
        if icon is not None and not icon.isNull():
            self.setWindowIcon(icon)
        scenario, preset_name, initial = opening_scene(config, scenario, preset_name)
        self.frames_displayed = 0
        self.stale_deliveries_dropped = 0
        self.session = Session(RunRecorder(), initial)

        self.controller = SimulationController(self)
        self.pacer = Pacer(self.controller, self._shown_iteration, self)
        self.controls = ControlPanel(initial)
        self.grid = PlotGrid(theme)
        self.status = StatusPanel()
        self.setStatusBar(self.status)
        self.caption = CaptionBand()
        self.notice = Notice()
        self.banner = Banner()
        self.messages = RunMessages(self.status, self.banner, self.notice)
        self.commands = WindowActions(self, presets())
        self.files = FileCommands(
            self,
            self.session,
            self.grid,
            self.notice,
            self.status,
            lambda: self.theme,
            self.load_scene,
            self.frame_displayed,
        )
        self._build_layout(theme)
        self.commands.install(self)
        # A child of the window in no layout (a child of the splitter would become a third pane).
        self.help_overlay = HelpOverlay(self)
        self.help_overlay.set_sections(self.commands.help_sections())
        self.view = ViewControl(
            self,
            theme,
            acts=self.commands,
            themed=(self.grid, self.phase_panel, self.jacobian_panel),
            caption=self.caption,
            dock=self.control_scroll,
            toolbar=self.toolbar,
            notice=self.notice,
            status=self.status,
            help_overlay=self.help_overlay,
        )
        self._connect()
        self.view.fit_to_screen()
        self.view.apply_theme(theme, force=True)
        self.session.show_scene(scenario, preset_name)

    # ---- building ---------------------------------------------------------------------------
    def _build_layout(self, theme: Theme) -> None:
        acts = self.commands
        # Kept as attributes: the previous API (tests, the GUI benchmark) uses them.
        self.play_action, self.step_action, self.reset_action = acts.play, acts.step, acts.reset
        self.gradient_plot, self.training_plot = self.grid.gradient_plot, self.grid.training_plot
        self.weights_plot, self.spectrum_plot = self.grid.weights_plot, self.grid.spectrum_plot
        self.plots_area = self.grid
        self.transport = TransportBar([acts.play, acts.step, acts.reset])
        self.control_scroll = ControlDock(self.transport, self.controls)
        self.views = PlotViews(self.grid, acts, theme, lambda: self.config, lambda: self.session.latest_frame)
        self.phase_panel, self.jacobian_panel = self.views.phase_panel, self.views.jacobian_panel
        self.why_panel = self.grid.why_panel
        self.splitter = dock_beside(self.control_scroll, [self.caption, self.notice, self.banner], self.views)
        self.setCentralWidget(self.splitter)
        self.toolbar = SceneToolbar(acts)
        self.scene_combo = self.toolbar.scene_combo
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

    def _connect(self) -> None:
        acts, session, controller = self.commands, self.session, self.controller
        session.scene_changed.connect(self._on_scene_changed)
        session.status_changed.connect(self.messages.status_changed)
        session.pins_changed.connect(lambda pins: self.grid.set_pins(pins, self.controls.config))
        self.controls.config_changed.connect(self._on_controls_changed)
        controller.started.connect(self._on_run_started)
        controller.yielded.connect(self._show_delivery)
        controller.errored.connect(session.run_failed)
        controller.finished.connect(session.run_finished)
        self.pacer.playing_changed.connect(lambda playing: session.paused_changed(not playing))
        self.pacer.connect_actions(acts, self.caption.set_state)
        self.controls.refused.connect(self.notice.show_message)
        self.weights_plot.freeze_toggled.connect(controller.set_edges_frozen)
        self.jacobian_panel.follow(controller)
        self.files.connect(acts)
        acts.reset.triggered.connect(self.reset)
        acts.quit.triggered.connect(self.close)
        for action in acts.scenes:
            name = action.data()
            action.triggered.connect(lambda _checked=False, name=name: self.load_preset(name))
        acts.next_scene.triggered.connect(lambda: self.step_scene(+1))
        acts.previous_scene.triggered.connect(lambda: self.step_scene(-1))
        acts.pin.triggered.connect(self.pin_run)
        acts.clear_pins.triggered.connect(self.clear_pins)
        self.phase_panel.point_chosen.connect(lambda values: self.set_config(self.config.replace(**values)))
        self.view.connect()

    # ---- public: state (read from the session) --------------------------------------------------
    @property
    def config(self) -> Config:
        """The Config the controls show (and the current run uses)."""
        return self.controls.config

    @property
    def pins(self) -> PinBoard:
        return self.session.pin_board

    # ---- public: the run and the scenes ----------------------------------------------------------
    def start(self) -> int:
        """Start the Config the controls show (paused if the scene says so). Returns the run id."""
        scene = self.session.scene
        if scene.scenario is not None and scene.scenario.starts_paused and not scene.modified:
            self.pacer.pause()  # a paused run computes its first update, then waits
        return self.controller.start(self.controls.config)

    def set_config(self, config: Config) -> int:
        """Show ``config`` in the controls and restart with it. Returns the run id."""
        self.controls.set_config(config)
        self.session.config_edited(self.controls.config)
        return self.controller.start(config)

    def reset(self) -> int:
        return self.controller.start(self.controls.config)

    def load_scene(self, scenario: Scenario, preset_name: str = "") -> int:
        """Show ``scenario`` (title, caption, config) and start it. Returns the run id."""
        self.session.show_scene(scenario, preset_name)
        run_id = self.start()
        self.scene_loaded.emit(scenario.title)
        return run_id

    def load_preset(self, name: str) -> int:
        preset = find_preset(name)
        return self.load_scene(preset.scenario, preset.name)

    def step_scene(self, offset: int) -> int:
        preset = neighbour(self.session.scene.preset, offset)
        return self.load_scene(preset.scenario, preset.name)

    # ---- public: presenter (see view) --------------------------------------------------------
    @property
    def theme(self) -> Theme:
        return self.view.theme

    def set_theme(self, name: str) -> None:
        self.view.set_theme(name)

    def set_font_scale(self, scale: float) -> None:
        self.view.set_font_scale(scale)

    def set_controls_visible(self, visible: bool) -> None:
        self.view.set_controls_visible(visible)

    @property
    def controls_visible(self) -> bool:
        return self.view.controls_visible

    # ---- public: pins and settings --------------------------------------------------------------
    def pin_run(self) -> Pin | None:
        """Pin what the plots show now. A fourth pin replaces the oldest (and says so)."""
        result = self.session.pin()
        self.status.showMessage(result.message(self.config, self.pins.capacity), 8000 if result.replaced else 5000)
        return result.pin

    def clear_pins(self) -> None:
        self.session.clear_pins()
        self.status.showMessage("Pins cleared", 3000)

    def save_settings(self) -> None:
        self.view.save_settings(self.session.scene)

    # ---- listening to the session and the controller -------------------------------------------
    def _on_scene_changed(self, scene: SceneState) -> None:
        if self.controls.config != scene.config:
            self.controls.set_config(scene.config)
        self.view.show_scene(scene)

    def _on_controls_changed(self, config: Config) -> None:
        self.session.config_edited(config)
        self.controller.start(config)

    def _on_run_started(self, run_id: int, config: Config) -> None:
        self.views.run_started(config)
        self.caption.clear()
        self.messages.run_started()  # a message about the previous run must not stay
        self.session.run_started(run_id, config, paused=not self.pacer.playing)

    def _shown_iteration(self) -> int:
        frame = self.session.latest_frame
        return frame.iteration if frame is not None else 0

    def _show_delivery(self, delivery: Delivery) -> None:
        if delivery.run_id != self.controller.run_id:
            # A frame of a run that has since been replaced: it must never be drawn.
            self.stale_deliveries_dropped += 1
            return
        frame = delivery.frame
        self.session.updates_arrived(delivery.history, frame)
        self.grid.add_updates(delivery.history, delivery.config, frame)
        if frame is None:
            return
        if not self.isMinimized():
            # Nobody sees a minimised window: keep the data, skip the drawing.
            self.views.show_frame(frame, delivery.config)
        self.status.frame_shown(frame)
        self.caption.frame_shown(frame)
        self.frames_displayed += 1
        self.frame_displayed.emit(delivery.run_id, frame.iteration)

    # ---- events -----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self and event.type() == QEvent.Type.Paint:
            # Only the first paint matters (launch time); stop filtering every event after it.
            self.removeEventFilter(self)
            self.first_painted.emit()
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.view.window_resized()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:
            self.view.full_screen_changed()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.files.drag_entered(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.files.dropped(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        self.files.closing()
        self.view.closing()
        self.controller.quit()
        self.phase_panel.shutdown()
        super().closeEvent(event)
