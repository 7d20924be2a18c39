"""Start the window: QApplication setup, icon, theme, the default scene running, the event loop.

Two environment variables exist for automation (smoke tests and the launch benchmark), so that
``python -m gradlab`` can be timed without extra command-line flags:

- ``GRADLAB_EXIT_AFTER_FRAMES=N``: quit with status 0 after N frames were displayed (used when
  ``launch`` gets no ``exit_after_frames``);
- ``GRADLAB_SHOWN_TIME_FILE=path``: write the wall-clock time (``time.time()``) of the window's
  first paint to ``path``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from gradlab.core import Config
from gradlab.core.scenario import Scenario
from gradlab.ui.main_window import MainWindow
from gradlab.ui.settings import load_settings
from gradlab.ui.theme import DEFAULT_THEME, Theme

log = logging.getLogger(__name__)

EXIT_AFTER_FRAMES_ENV = "GRADLAB_EXIT_AFTER_FRAMES"
SHOWN_TIME_FILE_ENV = "GRADLAB_SHOWN_TIME_FILE"


def app_icon() -> QIcon:
    """The gradlab icon, or an empty icon if the file is missing (never an error)."""
    try:
        from gradlab._resources import resource

        path = Path(str(resource("icons", "gradlab.svg")))
        if path.is_file():
            return QIcon(str(path))
    except Exception:  # a missing or broken icon must not stop the window from opening
        log.debug("no application icon", exc_info=True)
    return QIcon()


def application(theme: Theme = DEFAULT_THEME) -> QApplication:
    """The QApplication (created if needed), named and themed."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("gradlab")
    app.setApplicationDisplayName("gradlab")
    app.setDesktopFileName("gradlab")
    icon = app_icon()
    if not icon.isNull():
        app.setWindowIcon(icon)
    theme.apply_to_app(app)
    return app


def create_window(
    config: Config | None = None,
    *,
    theme: Theme = DEFAULT_THEME,
    scenario: Scenario | None = None,
    preset_name: str = "",
) -> MainWindow:
    """A themed main window showing ``scenario`` or ``config`` (default: the first scene), not
    started."""
    return MainWindow(config, theme=theme, icon=app_icon(), scenario=scenario, preset_name=preset_name)


def launch(
    config: Config | None = None, *, exit_after_frames: int | None = None, scenario: Scenario | None = None
) -> int:
    """Show the window with ``scenario`` (or ``config``) running, run the event loop, return the
    exit status. With neither, the window opens on the scene it showed last time.

    Theme, size, font scale and the last scene come from the settings (``gradlab.ui.settings``).
    With ``exit_after_frames=N`` the window quits by itself with status 0 after N displayed frames.
    """
    settings = load_settings()
    preset_name = ""
    if scenario is None and config is None:
        remembered = settings.scene.resolve()
        if remembered is not None:
            preset_name, scenario = remembered
    if exit_after_frames is None and os.environ.get(EXIT_AFTER_FRAMES_ENV):
        exit_after_frames = int(os.environ[EXIT_AFTER_FRAMES_ENV])
    shown_time_file = os.environ.get(SHOWN_TIME_FILE_ENV)

    theme = Theme.named(settings.theme, settings.font_scale)
    app = application(theme)
    window = create_window(config, theme=theme, scenario=scenario, preset_name=preset_name)
    if settings.geometry is not None:
        window.restoreGeometry(settings.geometry)
    window.set_controls_visible(settings.controls_visible)

    if shown_time_file:

        def write_shown_time() -> None:
            Path(shown_time_file).write_text(f"{time.time():.6f}\n", encoding="utf-8")

        window.first_painted.connect(write_shown_time)

    if exit_after_frames is not None:
        if exit_after_frames < 1:
            raise ValueError(f"exit_after_frames: {exit_after_frames!r} must be at least 1")

        def quit_when_done() -> None:
            if window.frames_displayed >= exit_after_frames:
                window.frame_displayed.disconnect(quit_when_done)
                # After the current slot returns, not inside it.
                QTimer.singleShot(0, window.close)
                QTimer.singleShot(0, app.quit)

        window.frame_displayed.connect(quit_when_done)

    window.show()
    # The simulation process starts once the window is on screen, so that its start-up (a new
    # interpreter importing NumPy) does not compete with the window's for the CPU.
    started = False

    def start_once() -> None:
        nonlocal started
        if not started:
            started = True
            window.start()

    window.first_painted.connect(start_once)
    QTimer.singleShot(1000, start_once)  # in case no paint event ever comes (hidden, minimised)
    status = app.exec()
    window.controller.shutdown()
    log.debug("event loop ended with status %d", status)
    return int(status)
