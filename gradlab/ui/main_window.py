"""The main window: composes the control panel, the caption band, the four plots and the status
bar, and wires the actions (menus, toolbar, keys) to what they do. It computes nothing itself.

Lecture-hall features live in small modules it composes: scenes (``gradlab.presets``), the caption
and big readouts (``presenter``), pins (``pins``), exports (``export``, ``recording``), settings
(``settings``), the keys (``actions``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gradlab.core import Config
from gradlab.core.files import bounded
from gradlab.core.record import save as save_history
from gradlab.core.scenario import MAX_TEXT, Scenario, ScenarioError, load_scenario, save_scenario
from gradlab.presets import Preset, presets
from gradlab.ui.actions import WindowActions
from gradlab.ui.clip import CLIP_SIZE, ClipPlan, ClipRecorder, record_clip
from gradlab.ui.controls import ControlPanel, TransportBar
from gradlab.ui.export import Heading, export_slide, heading_for, slide_image
from gradlab.ui.pins import Pin, PinBoard, pin_label
from gradlab.ui.plot_gradient_time import GradientTimePlot
from gradlab.ui.plot_phase import PhaseMapPanel
from gradlab.ui.plot_spectrum import SpectrumPlot
from gradlab.ui.plot_training import TrainingPlot
from gradlab.ui.plot_weights import WeightsPlot
from gradlab.ui.presenter import CaptionBand, HelpOverlay, Notice
from gradlab.ui.recording import RunRecorder
from gradlab.ui.settings import SavedScene, WindowSettings, save_settings
from gradlab.ui.simulation import Delivery, SimulationController
from gradlab.ui.status import StatusPanel
from gradlab.ui.theme import DEFAULT_THEME, Theme

log = logging.getLogger(__name__)

DEFAULT_SIZE = QSize(1440, 860)
MINIMUM_SIZE = QSize(1024, 600)
CONTROL_PANEL_WIDTH = 330
SCALE_STEP = 1.15


class FileDialogs:
    """Where the window asks for file names. Tests replace it with one that answers at once."""

    def open_path(self, parent: QWidget, title: str, name_filter: str) -> str:
        path, _ = QFileDialog.getOpenFileName(parent, title, "", name_filter)
        return path

    def save_path(self, parent: QWidget, title: str, name_filter: str, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, name_filter)
        return path


def _scene_of(config: Config) -> Preset | None:
    for preset in presets():
        if preset.scenario.config == config:
            return preset
    return None


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
        self.theme = theme
        self.frames_displayed = 0
        self.stale_deliveries_dropped = 0
        self.dialogs = FileDialogs()
        self.clip: ClipRecorder | None = None
        self.pins = PinBoard()
        self.recorder = RunRecorder()
        self.scene: Scenario | None = None
        self.scene_preset = ""

        if scenario is None and config is None:
            preset = presets()[0]
            scenario, preset_name = preset.scenario, preset.name
        elif scenario is None and config is not None:
            preset = _scene_of(config)
            if preset is not None:
                scenario, preset_name = preset.scenario, preset.name
        initial = scenario.config if scenario is not None else config
        assert initial is not None

        self.controller = SimulationController(self)
        self.controls = ControlPanel(initial)
        self.gradient_plot = GradientTimePlot(theme)
        self.training_plot = TrainingPlot(theme)
        self.weights_plot = WeightsPlot(theme)
        self.spectrum_plot = SpectrumPlot(theme)
        self.status = StatusPanel()
        self.setStatusBar(self.status)
        self.caption = CaptionBand()
        self.notice = Notice()
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.commands = WindowActions(self, presets())
        self._build_layout()
        self._build_menus()
        self._connect()
        self.help_overlay = HelpOverlay(self.centralWidget())
        self.help_overlay.set_sections(
            [
                (title.replace("&", ""), [a for a in actions if a is not None])
                for title, actions in self.commands.menus()
            ]
        )
        self.apply_theme(theme, force=True)
        self._resize_to_screen()
        self._show_scene(scenario, preset_name)

    # ---- building ---------------------------------------------------------------------------
    def _build_layout(self) -> None:
        acts = self.commands
        # Kept as attributes: the previous API (tests, the GUI benchmark) uses them.
        self.play_action, self.step_action, self.reset_action = acts.play, acts.step, acts.reset
        self.transport = TransportBar([acts.play, acts.step, acts.reset])
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.transport)
        left_layout.addWidget(self.controls, 1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._control_content = left
        self.control_scroll = scroll
        self._fit_control_width()

        for plot in (self.gradient_plot, self.spectrum_plot, self.training_plot, self.weights_plot):
            # Sizes come from the grid's stretch factors alone, not from each plot's size hint
            # (which would let one plot squeeze the others).
            plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            plot.setMinimumSize(220, 160)
        self.plots_area = QWidget()
        grid = QGridLayout(self.plots_area)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setSpacing(6)
        grid.addWidget(self.gradient_plot, 0, 0)
        grid.addWidget(self.spectrum_plot, 0, 1)
        grid.addWidget(self.training_plot, 1, 0)
        grid.addWidget(self.weights_plot, 1, 1)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(0, 11)
        grid.setRowStretch(1, 10)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        right_layout.addWidget(self.caption)
        right_layout.addWidget(self.notice)
        right_layout.addWidget(self.banner)
        # The phase map is a view of its own in place of the four plots (Phase map, key M).
        self.phase_panel = PhaseMapPanel(self.theme)
        self.views = QStackedWidget()
        self.views.addWidget(self.plots_area)
        self.views.addWidget(self.phase_panel)
        right_layout.addWidget(self.views, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(1, False)
        splitter.setSizes([scroll.minimumWidth(), 10_000])
        self.splitter = splitter
        self.setCentralWidget(splitter)

        self.toolbar = QToolBar("Scenes")
        self.toolbar.setObjectName("scenesToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(QLabel(" Scene "))
        self.scene_combo = QComboBox()
        self.scene_combo.setToolTip("Choose a scene (keys 1 … 9, 0; Page Down / Page Up)")
        self.scene_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for action in acts.scenes:
            self.scene_combo.addItem(action.text().replace("&", ""), action.data())
        self.scene_combo.addItem("(custom)", "")
        self.toolbar.addWidget(self.scene_combo)
        self.toolbar.addSeparator()
        for action in (
            acts.pin,
            acts.clear_pins,
            None,
            acts.toggle_theme,
            acts.smaller,
            acts.bigger,
            acts.hide_controls,
            acts.full_screen,
            acts.phase_map,
            None,
            acts.help,
        ):
            if action is None:
                self.toolbar.addSeparator()
            else:
                self.toolbar.addAction(action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        for title, actions in self.commands.menus():
            menu = bar.addMenu(title)
            for action in actions:
                if action is None:
                    menu.addSeparator()
                else:
                    menu.addAction(action)
        for action in self.commands.all():
            # Also on the window itself, so the keys work while the menu bar is hidden.
            self.addAction(action)

    def _connect(self) -> None:
        acts = self.commands
        self.controls.config_changed.connect(self._on_controls_changed)
        self.controller.started.connect(self._on_run_started)
        self.controller.yielded.connect(self._show_delivery)
        self.controller.errored.connect(self._on_error)
        self.controller.finished.connect(self._on_finished)
        self.controller.paused_changed.connect(self._on_paused_changed)
        self.weights_plot.freeze_toggled.connect(self.controller.set_edges_frozen)

        acts.play.triggered.connect(self.controller.toggle_pause)
        acts.step.triggered.connect(self.controller.step)
        acts.reset.triggered.connect(self.reset)
        acts.open_scenario.triggered.connect(self.open_scenario_dialog)
        acts.save_scene.triggered.connect(
            lambda: self._ask_and_save("Save scene as", "Scenario (*.json)", ".json", self.save_scene)
        )
        acts.export_png.triggered.connect(
            lambda: self._ask_and_save("Export plots as PNG", "PNG image (*.png)", ".png", self.export_plots)
        )
        acts.record_clip.triggered.connect(lambda: self.record_clip())
        acts.export_pdf.triggered.connect(
            lambda: self._ask_and_save("Export plots as PDF", "PDF document (*.pdf)", ".pdf", self.export_plots)
        )
        acts.export_csv.triggered.connect(
            lambda: self._ask_and_save("Export data as CSV", "CSV (*.csv)", ".csv", self.export_data)
        )
        acts.export_npz.triggered.connect(
            lambda: self._ask_and_save("Export data as NPZ", "NumPy archive (*.npz)", ".npz", self.export_data)
        )
        acts.quit.triggered.connect(self.close)
        for action in acts.scenes:
            name = action.data()
            action.triggered.connect(lambda _checked=False, name=name: self.load_preset(name))
        acts.next_scene.triggered.connect(lambda: self.step_scene(+1))
        acts.previous_scene.triggered.connect(lambda: self.step_scene(-1))
        self.scene_combo.activated.connect(self._scene_combo_chosen)
        acts.full_screen.toggled.connect(self.set_full_screen)
        acts.bigger.triggered.connect(lambda: self.set_font_scale(self.theme.scale * SCALE_STEP))
        acts.smaller.triggered.connect(lambda: self.set_font_scale(self.theme.scale / SCALE_STEP))
        acts.normal_size.triggered.connect(lambda: self.set_font_scale(1.0))
        acts.hide_controls.toggled.connect(lambda hidden: self.set_controls_visible(not hidden))
        acts.theme_projector.triggered.connect(lambda: self.set_theme("projector"))
        acts.theme_dark.triggered.connect(lambda: self.set_theme("dark"))
        acts.toggle_theme.triggered.connect(lambda: self.set_theme("projector" if self.theme.dark else "dark"))
        acts.pin.triggered.connect(self.pin_run)
        acts.clear_pins.triggered.connect(self.clear_pins)
        acts.escape.triggered.connect(self._escape)
        acts.help.triggered.connect(self.help_overlay_toggle)
        acts.phase_map.toggled.connect(self.show_phase_map)
        self.phase_panel.point_chosen.connect(lambda values: self.set_config(self.config.replace(**values)))

    def _resize_to_screen(self) -> None:
        self.setMinimumSize(MINIMUM_SIZE)
        size = QSize(DEFAULT_SIZE)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry().size()
            size = size.boundedTo(available)
        self.resize(size)

    def _fit_control_width(self) -> None:
        # Wide enough for the panel's own size hint: the horizontal scroll bar is off, so
        # anything narrower would cut the spin boxes off.
        scroll = self.control_scroll
        scroll.setMinimumWidth(
            max(
                int(CONTROL_PANEL_WIDTH * self.theme.scale),
                self._control_content.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4,
            )
        )

    # ---- public: the run ------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The Config the controls show (and the current run uses)."""
        return self.controls.config

    def start(self) -> int:
        """Start the Config the controls show. Returns the run id."""
        return self.controller.start(self.controls.config)

    def set_config(self, config: Config) -> int:
        """Show ``config`` in the controls and restart with it. Returns the run id."""
        self.controls.set_config(config)
        self._update_caption()
        return self.controller.start(config)

    def reset(self) -> int:
        return self.controller.start(self.controls.config)

    # ---- public: scenes -------------------------------------------------------------------------
    def load_scene(self, scenario: Scenario, preset_name: str = "") -> int:
        """Show ``scenario`` (title, caption, config) and start it. Returns the run id."""
        self._show_scene(scenario, preset_name)
        run_id = self.controller.start(scenario.config)
        self.scene_loaded.emit(scenario.title)
        return run_id

    def load_preset(self, name: str) -> int:
        for preset in presets():
            if preset.name == name:
                return self.load_scene(preset.scenario, preset.name)
        raise KeyError(f"no scene called {name!r}")

    def step_scene(self, offset: int) -> int:
        names = [p.name for p in presets()]
        index = names.index(self.scene_preset) if self.scene_preset in names else (-1 if offset > 0 else 0)
        return self.load_preset(names[(index + offset) % len(names)])

    def open_scenario_file(self, path: str | Path) -> bool:
        """Load a scenario file; on any problem say what is wrong and change nothing."""
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            self.notice.show_message(f"Could not open the scenario. {error}")
            return False
        self.notice.hide()
        self.load_scene(scenario)
        self.status.showMessage(f"Opened {Path(path).name}", 5000)
        return True

    def open_scenario_dialog(self) -> None:
        path = self.dialogs.open_path(self, "Open scenario", "Scenario (*.json);;All files (*)")
        if path:
            self.open_scenario_file(path)

    def current_scenario(self) -> Scenario:
        """The current scene as a scenario: as loaded, or marked as modified with what changed."""
        config = self.controls.config
        scene = self.scene
        if scene is not None and scene.config == config:
            return scene
        changes = pin_label(config, scene.config) if scene is not None else ""
        if scene is not None:
            title = f"{scene.title} (modified)"
            caption = f"Changed from the scene: {changes}. {scene.caption}"
        else:
            title = "Custom settings"
            caption = "Settings saved from the gradlab window."
        return Scenario(
            title=title[: MAX_TEXT["title"]].strip(), caption=caption[: MAX_TEXT["caption"]].strip(), config=config
        )

    # ---- public: files --------------------------------------------------------------------------
    def save_scene(self, path: str | Path) -> Path:
        # Checked to open again, then written atomically: a full disk keeps the old file.
        return save_scenario(self.current_scenario(), path)

    def _slide(self) -> tuple[Heading, tuple[str, str, str]]:
        """What an exported slide says above the plots, and its colours."""
        heading = heading_for(self.current_scenario().title, self.controls.config, self.recorder.last_frame)
        return heading, (self.theme.background, self.theme.foreground, self.theme.muted)

    def export_plots(self, path: str | Path) -> Path:
        """The plots as a slide with the scene's title, settings and readouts: .png or .pdf."""
        return export_slide(self.plots_area, *self._slide(), path)

    def record_clip(self, plan: ClipPlan | None = None) -> None:
        """Ctrl+Shift+R: the plots as a GIF or MP4 clip, recorded while the run goes on."""
        if self.clip is not None and not self.clip.done:
            self.notice.show_message("A clip is being recorded: stop or cancel it first.")
            return
        self.clip = record_clip(
            self,
            lambda: slide_image(self.plots_area, *self._slide(), CLIP_SIZE),
            lambda suggested: self.dialogs.save_path(self, "Record clip", "GIF (*.gif);;MP4 video (*.mp4)", suggested),
            self.frame_displayed,
            lambda text: self.status.showMessage(text, 8000),
            self.notice.show_message,
            plan,
        )

    def export_data(self, path: str | Path) -> Path:
        """Every update of the current run, as the CLI's --out writes it (.csv, .npz, .json)."""
        return save_history(self.recorder.history(), path)

    def _ask_and_save(self, title: str, name_filter: str, suffix: str, write: Callable[[Path], Path]) -> None:
        stem = (self.scene_preset or "gradlab") if self.scene is not None else "gradlab"
        path = self.dialogs.save_path(self, title, name_filter, f"{stem}{suffix}")
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() != suffix:
            target = target.with_name(target.name + suffix)
        try:
            written = write(target)
        except (OSError, ValueError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            self.notice.show_message(bounded(f"Could not write {target.name}: {reason}"))
            return
        self.status.showMessage(f"Wrote {written}", 8000)

    # ---- public: presenter ----------------------------------------------------------------------
    def apply_theme(self, theme: Theme, *, force: bool = False) -> None:
        """Re-apply colours and sizes everywhere (presenter scale, projector/dark).

        Re-styling every widget and plot takes a noticeable fraction of a second, so a theme
        equal to the current one (e.g. "Bigger" at the largest size) changes nothing."""
        if theme == self.theme and not force:
            return
        self.theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_to_app(app)
        # The window's own sheet depends on the colours only, so a change of size does not make
        # every widget re-style; the named widgets carry their sizes in sheets of their own.
        window_sheet = theme.window_stylesheet()
        if self.styleSheet() != window_sheet:
            self.setStyleSheet(window_sheet)
        theme.style_widgets(self)
        for plot in (self.gradient_plot, self.training_plot, self.weights_plot, self.spectrum_plot, self.phase_panel):
            plot.apply_theme(theme)
        self.caption.fit_widths()
        self._fit_control_width()
        self.commands.theme_dark.setChecked(theme.dark)
        self.commands.theme_projector.setChecked(not theme.dark)
        if not self.help_overlay.isHidden():
            self.help_overlay.place()

    def set_theme(self, name: str) -> None:
        self.apply_theme(Theme.named(name, self.theme.scale))

    def set_font_scale(self, scale: float) -> None:
        self.apply_theme(self.theme.with_scale(scale))
        self.status.showMessage(f"Size {self.theme.scale:.0%}", 2000)

    def set_controls_visible(self, visible: bool) -> None:
        self.control_scroll.setVisible(visible)
        self.toolbar.setVisible(visible)
        if self.commands.hide_controls.isChecked() == visible:
            self.commands.hide_controls.setChecked(not visible)

    @property
    def controls_visible(self) -> bool:
        return not self.control_scroll.isHidden()

    def set_full_screen(self, on: bool) -> None:
        if on:
            self.showFullScreen()
        else:
            self.showNormal()
        if self.commands.full_screen.isChecked() != on:
            self.commands.full_screen.setChecked(on)

    def help_overlay_toggle(self) -> None:
        self.help_overlay.toggle()

    def _escape(self) -> None:
        if not self.help_overlay.isHidden():
            self.help_overlay.set_visible(False)
        elif not self.notice.isHidden():
            self.notice.hide()
        elif self.isFullScreen():
            self.set_full_screen(False)

    # ---- public: pins ---------------------------------------------------------------------------
    def pin_run(self) -> Pin | None:
        """Pin what the plots show now. A fourth pin replaces the oldest (and says so)."""
        frame = self.status._latest
        config = self.controller.config
        history = self.training_plot.history
        if frame is None or config is None:
            self.status.showMessage("Nothing to pin yet: wait for the first update.", 5000)
            return None
        pin = Pin(
            slot=0,
            config=config,
            iteration=frame.iteration,
            log10_dh_norm=np.array(frame.log10_dh_norm, dtype=np.float64),
            update_iteration=history.iteration.copy(),
            log10_grad=history.log10_grad.copy(),
            log10_loss=history.log10_loss.copy(),
        )
        replaced = self.pins.add(pin)
        self._show_pins()
        added = self.pins.pins[-1]
        if replaced is not None:
            self.status.showMessage(
                f"At most {self.pins.capacity} pins: the oldest ({replaced.label(self.config)}) was replaced.", 8000
            )
        else:
            self.status.showMessage(f"Pinned at update {frame.iteration}. Change a control to compare.", 5000)
        return added

    def clear_pins(self) -> None:
        self.pins.clear()
        self._show_pins()
        self.status.showMessage("Pins cleared", 3000)

    def _show_pins(self) -> None:
        live = self.controls.config
        self.gradient_plot.set_pins(self.pins.pins, live)
        self.training_plot.set_pins(self.pins.pins, live)

    # ---- public: settings -----------------------------------------------------------------------
    def window_settings(self) -> WindowSettings:
        if self.scene_preset:
            scene = SavedScene(preset=self.scene_preset)
        else:
            scene = SavedScene(scenario=self.current_scenario())
        return WindowSettings(
            geometry=self.saveGeometry(),
            theme=self.theme.name,
            font_scale=self.theme.scale,
            controls_visible=self.controls_visible,
            scene=scene,
        )

    def save_settings(self) -> None:
        save_settings(self.window_settings())

    # ---- slots ------------------------------------------------------------------------------
    def _show_scene(self, scenario: Scenario | None, preset_name: str) -> None:
        self.scene = scenario
        self.scene_preset = preset_name if scenario is not None else ""
        if scenario is not None:
            self.controls.set_config(scenario.config)
        for action in self.commands.scenes:
            action.setChecked(bool(preset_name) and action.data() == preset_name)
        self._update_caption()

    def _update_caption(self) -> None:
        scene = self.scene
        config = self.controls.config
        if scene is None:
            self.caption.set_scene("", "", custom="your own settings")
        elif scene.config == config:
            self.caption.set_scene(scene.title, scene.caption)
        else:
            self.caption.set_scene(scene.title, scene.caption, custom=pin_label(config, scene.config))
        index = self.scene_combo.findData(self.scene_preset if scene is not None and scene.config == config else "")
        if index < 0:
            index = self.scene_combo.findData("")
        self.scene_combo.setCurrentIndex(index)
        if scene is not None and self.scene_preset and scene.config != config:
            checked = self.commands.scene_group.checkedAction()
            if checked is not None:
                # Exclusive groups cannot uncheck their last action by setChecked(False).
                self.commands.scene_group.setExclusive(False)
                checked.setChecked(False)
                self.commands.scene_group.setExclusive(True)
        elif scene is not None and self.scene_preset:
            for action in self.commands.scenes:
                action.setChecked(action.data() == self.scene_preset)
        title = scene.title if scene is not None and scene.config == config else "custom"
        self.setWindowTitle(f"gradlab — {title}")

    def _scene_combo_chosen(self, index: int) -> None:
        name = self.scene_combo.itemData(index)
        if name:
            self.load_preset(name)
        else:
            self._update_caption()

    def _on_controls_changed(self, config: Config) -> None:
        self._update_caption()
        self.controller.start(config)

    def show_phase_map(self, visible: bool) -> None:
        """Show the phase map (computed while it is shown, for the live config) or the live plots."""
        self.views.setCurrentWidget(self.phase_panel if visible else self.plots_area)
        if self.commands.phase_map.isChecked() != visible:
            self.commands.phase_map.setChecked(visible)
        if visible:
            self.phase_panel.set_config(self.config)

    def _on_run_started(self, run_id: int, config: Config) -> None:
        if self.views.currentWidget() is self.phase_panel:
            self.phase_panel.set_config(config)  # the dot moves; a changed activation or cell recomputes
        self.gradient_plot.clear_history()
        self.training_plot.clear_history()
        self.spectrum_plot.clear()
        self.weights_plot.clear()
        self.status.clear()
        self.caption.clear()
        self.recorder.start(config)
        self.banner.hide()
        if len(self.pins):
            self._show_pins()  # the labels say what differs from the new live config

    def _show_delivery(self, delivery: Delivery) -> None:
        if delivery.run_id != self.controller.run_id:
            # A frame of a run that has since been replaced: it must never be drawn.
            self.stale_deliveries_dropped += 1
            return
        frame = delivery.frame
        self.recorder.add(delivery.history, frame)
        self.training_plot.append(delivery.history, delivery.config, frame.baseline_loss if frame else None)
        if frame is None:
            return
        if not self.isMinimized():
            # Nobody sees a minimised window: keep the data, skip the drawing.
            self.gradient_plot.show_frame(frame, delivery.config)
            self.weights_plot.show_frame(frame, delivery.config)
            self.spectrum_plot.show_frame(frame)
        self.status.frame_shown(frame)
        self.caption.frame_shown(frame)
        if frame.message:
            self.status.showMessage(frame.message, 10_000)
        self.frames_displayed += 1
        self.frame_displayed.emit(delivery.run_id, frame.iteration)

    def _on_error(self, run_id: int, message: str) -> None:
        if run_id != self.controller.run_id:
            return
        # One sentence of what happened (bounded), one of what to do: never two instructions.
        text = (
            bounded(message) if message.startswith("The simulation") else f"The simulation stopped: {bounded(message)}"
        )
        self.banner.setText(f"{text}\nChange a control or press Reset (R) to start again.")
        self.banner.show()
        self.status.set_alert("⚠ simulation error")

    def _on_finished(self, run_id: int) -> None:
        if run_id == self.controller.run_id and self.banner.isHidden():
            self.status.showMessage("Run finished. Change a control or press Reset (R).")

    def _on_paused_changed(self, paused: bool) -> None:
        self.commands.play.setText("Play" if paused else "Pause")

    # ---- events -----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self and event.type() == QEvent.Type.Paint:
            # Only the first paint matters (launch time); stop filtering every event after it.
            self.removeEventFilter(self)
            self.first_painted.emit()
        return False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self.help_overlay.isHidden():
            self.help_overlay.place()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.WindowStateChange:
            full = self.isFullScreen()
            if self.commands.full_screen.isChecked() != full:
                self.commands.full_screen.setChecked(full)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_scenario_file(path)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        if self.clip is not None:  # its encoder thread must not outlive the window
            self.clip.cancel()
            self.clip.wait()
        self.controller.quit()
        self.phase_panel.shutdown()
        super().closeEvent(event)


def _dropped_file(event: QDragEnterEvent | QDropEvent) -> str | None:
    """The one local file being dropped, or None (several files, a web link, text)."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return None
    urls = mime.urls()
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    return urls[0].toLocalFile()
