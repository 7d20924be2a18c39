"""The main window: composes the control panel, the four plots and the status bar.

It wires controls -> SimulationController -> plots and owns the Play/Pause, Step and Reset
actions with their keyboard shortcuts. It computes nothing itself.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gradlab.core import Config
from gradlab.ui.controls import ControlPanel, TransportBar
from gradlab.ui.plot_gradient_time import GradientTimePlot
from gradlab.ui.plot_spectrum import SpectrumPlot
from gradlab.ui.plot_training import TrainingPlot
from gradlab.ui.plot_weights import WeightsPlot
from gradlab.ui.status import StatusPanel
from gradlab.ui.theme import DEFAULT_THEME, Theme
from gradlab.ui.worker import Delivery, SimulationController

log = logging.getLogger(__name__)

DEFAULT_SIZE = QSize(1440, 860)
MINIMUM_SIZE = QSize(1024, 600)
CONTROL_PANEL_WIDTH = 330


class MainWindow(QMainWindow):
    """The gradlab window. ``frame_displayed`` fires after each frame was drawn."""

    frame_displayed = Signal(int, int)  # run id, iteration
    first_painted = Signal()

    def __init__(
        self,
        config: Config | None = None,
        *,
        theme: Theme = DEFAULT_THEME,
        icon: QIcon | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.installEventFilter(self)
        self.setWindowTitle("gradlab")
        if icon is not None and not icon.isNull():
            self.setWindowIcon(icon)
        self.theme = theme
        self.frames_displayed = 0
        self.stale_deliveries_dropped = 0

        self.controller = SimulationController(self)
        self.controls = ControlPanel(config)
        self.gradient_plot = GradientTimePlot(theme)
        self.training_plot = TrainingPlot(theme)
        self.weights_plot = WeightsPlot(theme)
        self.spectrum_plot = SpectrumPlot(theme)
        self.status = StatusPanel()
        self.setStatusBar(self.status)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        self._create_actions()
        self._build_layout()
        self._connect()
        self.apply_theme(theme)
        self._resize_to_screen()

    # ---- building ---------------------------------------------------------------------------
    def _create_actions(self) -> None:
        self.play_action = QAction("Pause", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setToolTip("Play / pause the simulation (Space)")
        self.play_action.triggered.connect(self.controller.toggle_play)
        self.step_action = QAction("Step", self)
        self.step_action.setShortcut(QKeySequence(Qt.Key.Key_S))
        self.step_action.setToolTip("Pause and compute one update (S)")
        self.step_action.triggered.connect(self.controller.step)
        self.reset_action = QAction("Reset", self)
        self.reset_action.setShortcut(QKeySequence(Qt.Key.Key_R))
        self.reset_action.setToolTip("Start again from the initial weights (R)")
        self.reset_action.triggered.connect(self.reset)
        for action in (self.play_action, self.step_action, self.reset_action):
            # The window's shortcuts work whichever control has the focus.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

    def _build_layout(self) -> None:
        self.transport = TransportBar([self.play_action, self.step_action, self.reset_action])
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
        # Wide enough for the panel's own size hint: the horizontal scroll bar is off, so
        # anything narrower would cut the spin boxes off.
        scroll.setMinimumWidth(
            max(CONTROL_PANEL_WIDTH, left.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
        )
        self.control_scroll = scroll

        for plot in (self.gradient_plot, self.spectrum_plot, self.training_plot, self.weights_plot):
            # Sizes come from the grid's stretch factors alone, not from each plot's size hint
            # (which would let one plot squeeze the others).
            plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
            plot.setMinimumSize(220, 160)
        plots = QWidget()
        grid = QGridLayout()
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
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.setSpacing(0)
        plots_layout.addWidget(self.banner)
        plots_layout.addLayout(grid, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(plots)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(1, False)
        splitter.setSizes([scroll.minimumWidth(), 10_000])
        self.setCentralWidget(splitter)

    def _connect(self) -> None:
        self.controls.config_changed.connect(self.controller.start)
        self.controller.run_started.connect(self._on_run_started)
        self.controller.delivered.connect(self._show_delivery)
        self.controller.errored.connect(self._on_error)
        self.controller.finished.connect(self._on_finished)
        self.controller.paused_changed.connect(self._on_paused_changed)
        self.weights_plot.freeze_toggled.connect(self.controller.set_edges_frozen)

    def _resize_to_screen(self) -> None:
        self.setMinimumSize(MINIMUM_SIZE)
        size = QSize(DEFAULT_SIZE)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            available = screen.availableGeometry().size()
            size = size.boundedTo(available)
        self.resize(size)

    # ---- public -----------------------------------------------------------------------------
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
        return self.controller.start(config)

    def reset(self) -> int:
        return self.controller.start(self.controls.config)

    def apply_theme(self, theme: Theme) -> None:
        """Re-apply colours and sizes everywhere (presenter mode, dark/light)."""
        self.theme = theme
        self.setStyleSheet(theme.stylesheet())
        for plot in (self.gradient_plot, self.training_plot, self.weights_plot, self.spectrum_plot):
            plot.apply_theme(theme)

    # ---- slots ------------------------------------------------------------------------------
    def _on_run_started(self, run_id: int, config: Config) -> None:
        self.gradient_plot.clear_history()
        self.training_plot.clear_history()
        self.status.clear()
        self.banner.hide()

    def _show_delivery(self, delivery: Delivery) -> None:
        if delivery.run_id != self.controller.run_id:
            # A frame of a run that has since been replaced: it must never be drawn.
            self.stale_deliveries_dropped += 1
            return
        frame = delivery.frame
        self.training_plot.append(
            delivery.history, delivery.config, frame.baseline_loss if frame else None
        )
        if frame is None:
            return
        self.gradient_plot.show_frame(frame)
        self.weights_plot.show_frame(frame)
        self.spectrum_plot.show_frame(frame)
        self.status.frame_shown(frame)
        if frame.message:
            self.status.showMessage(frame.message, 10_000)
        self.frames_displayed += 1
        self.frame_displayed.emit(delivery.run_id, frame.iteration)

    def _on_error(self, run_id: int, message: str) -> None:
        if run_id != self.controller.run_id:
            return
        self.banner.setText(
            f"The simulation stopped with an error: {message}\n"
            "Change a control or press Reset (R) to start again."
        )
        self.banner.show()
        self.status.set_alert("⚠ simulation error")

    def _on_finished(self, run_id: int) -> None:
        if run_id == self.controller.run_id and self.banner.isHidden():
            self.status.showMessage("Run finished. Change a control or press Reset (R).")

    def _on_paused_changed(self, paused: bool) -> None:
        self.play_action.setText("Play" if paused else "Pause")

    # ---- events -----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self and event.type() == QEvent.Type.Paint:
            # Only the first paint matters (launch time); stop filtering every event after it.
            self.removeEventFilter(self)
            self.first_painted.emit()
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.shutdown()
        super().closeEvent(event)

