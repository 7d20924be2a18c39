"""The window's File menu: open a scenario, save the scene, export the plots (a PNG or PDF slide, a
GIF or MP4 clip) and the run's data.

Every failure is one clear message in the window's notice; nothing is lost and nothing raises.
Files are written atomically (``gradlab.core.files``): a failed write leaves the old file as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import SignalInstance
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QStatusBar, QWidget

from gradlab.core.files import bounded
from gradlab.core.record import save as save_history
from gradlab.core.scenario import Scenario, ScenarioError, load_scenario, save_scenario
from gradlab.ui.actions import WindowActions
from gradlab.ui.clip import CLIP_SIZE, ClipPlan, ClipRecorder, record_clip
from gradlab.ui.export import Heading, export_slide, heading_for, slide_image
from gradlab.ui.plot_grid import PlotGrid
from gradlab.ui.presenter import Notice
from gradlab.ui.session import Session
from gradlab.ui.theme import Theme


class FileDialogs:
    """Where the window asks for file names. Tests replace it with one that answers at once."""

    def open_path(self, parent: QWidget, title: str, name_filter: str) -> str:
        path, _ = QFileDialog.getOpenFileName(parent, title, "", name_filter)
        return path

    def save_path(self, parent: QWidget, title: str, name_filter: str, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, name_filter)
        return path


class FileCommands:
    """Reads and writes files for the window. ``load_scene`` is how an opened scenario is shown.
    A scenario file dropped on the window opens."""

    def __init__(
        self,
        parent: QWidget,
        session: Session,
        grid: PlotGrid,
        notice: Notice,
        status: QStatusBar,
        theme: Callable[[], Theme],
        load_scene: Callable[[Scenario], object],
        frame_shown: SignalInstance,
    ) -> None:
        self.window = parent
        self.session = session
        self.grid = grid
        self.notice = notice
        self.status = status
        self.theme = theme
        self.load_scene = load_scene
        self.frame_shown = frame_shown  # fires after each displayed update: a clip's clock
        self.dialogs = FileDialogs()
        self.clip: ClipRecorder | None = None

    def connect(self, acts: WindowActions) -> None:
        acts.open_scenario.triggered.connect(self.open_scenario_dialog)
        for action, title, name_filter, suffix, write in (
            (acts.save_scene, "Save scene as", "Scenario (*.json)", ".json", self.save_scene),
            (acts.export_png, "Export plots as PNG", "PNG image (*.png)", ".png", self.export_plots),
            (acts.export_pdf, "Export plots as PDF", "PDF document (*.pdf)", ".pdf", self.export_plots),
            (acts.export_csv, "Export data as CSV", "CSV (*.csv)", ".csv", self.export_data),
            (acts.export_npz, "Export data as NPZ", "NumPy archive (*.npz)", ".npz", self.export_data),
        ):
            action.triggered.connect(
                lambda _checked=False, t=title, f=name_filter, s=suffix, w=write: self.ask_and_save(t, f, s, w)
            )
        acts.record_clip.triggered.connect(lambda: self.record_clip())

    def drag_entered(self, event: QDragEnterEvent) -> None:
        if dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropped(self, event: QDropEvent) -> None:
        path = dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_scenario_file(path)

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
        path = self.dialogs.open_path(self.window, "Open scenario", "Scenario (*.json);;All files (*)")
        if path:
            self.open_scenario_file(path)

    def save_scene(self, path: str | Path) -> Path:
        # Checked to open again, then written atomically: a full disk keeps the old file.
        return save_scenario(self.session.scene.as_scenario(), path)

    def _slide(self) -> tuple[Heading, tuple[str, str, str]]:
        """What an exported slide says above the plots, and its colours."""
        scene = self.session.scene
        heading = heading_for(scene.as_scenario().title, scene.config, self.session.latest_frame)
        theme = self.theme()
        return heading, (theme.background, theme.foreground, theme.muted)

    def export_plots(self, path: str | Path) -> Path:
        """The plots as a slide with the scene's title, settings and readouts: .png or .pdf."""
        return export_slide(self.grid, *self._slide(), path)

    def record_clip(self, plan: ClipPlan | None = None) -> None:
        """Ctrl+Shift+R: the plots as a GIF or MP4 clip, recorded while the run goes on."""
        if self.clip is not None and not self.clip.done:
            self.notice.show_message("A clip is being recorded: stop or cancel it first.")
            return
        self.clip = record_clip(
            self.window,
            lambda: slide_image(self.grid, *self._slide(), CLIP_SIZE),
            lambda suggested: self.dialogs.save_path(
                self.window, "Record clip", "GIF (*.gif);;MP4 video (*.mp4)", suggested
            ),
            self.frame_shown,
            lambda text: self.status.showMessage(text, 8000),
            self.notice.show_message,
            plan,
        )

    def closing(self) -> None:
        """The window closes: a clip's encoder thread must not outlive it."""
        if self.clip is not None:
            self.clip.cancel()
            self.clip.wait()

    def export_data(self, path: str | Path) -> Path:
        """Every update of the current run, as the CLI's --out writes it (.csv, .npz, .json)."""
        return save_history(self.session.record.history(), path)

    def ask_and_save(self, title: str, name_filter: str, suffix: str, write: Callable[[Path], Path]) -> None:
        stem = self.session.scene.preset or "gradlab"
        path = self.dialogs.save_path(self.window, title, name_filter, f"{stem}{suffix}")
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


def dropped_file(event: QDragEnterEvent | QDropEvent) -> str | None:
    """The one local file being dropped, or None (several files, a web link, text)."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return None
    urls = mime.urls()
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    return urls[0].toLocalFile()
