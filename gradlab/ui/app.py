"""Start the window: QApplication setup, icon, theme, the default scene running, the event loop.

Two environment variables exist for automation (smoke tests and the launch benchmark), so that
``python -m gradlab`` can be timed without extra command-line flags:

- ``GRADLAB_EXIT_AFTER_FRAMES=N``: quit with status 0 after N frames were displayed (used when
  ``launch`` gets no ``exit_after_frames``);
- ``GRADLAB_SHOWN_TIME_FILE=path``: write the wall-clock time (``time.time()``) of the window's
  first paint to ``path``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSocketNotifier, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from gradlab.core import Config
from gradlab.core.files import atomic_write_text
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


# Ctrl+C in the launching terminal, closing that terminal, `kill`: each closes the window (which
# saves the settings and stops the simulation) and ends the event loop with 128 + the signal.
QUIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class SignalBridge(QObject):
    """Unix signals delivered inside Qt's event loop.

    Python runs a signal handler only between two bytecodes of the main thread; while Qt waits in
    C++ for events that may be never (Ctrl+C did nothing until the mouse moved), and when Python
    code is running, the default handler raises KeyboardInterrupt in whatever it was (a traceback
    from the controller's poll). Here the handlers do nothing but let the C-level handler write
    the signal's number to a socket (``signal.set_wakeup_fd``); a QSocketNotifier wakes the loop
    and the number is read and acted on there, once, between two events.
    """

    def __init__(self, on_signal: Callable[[int], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_signal = on_signal
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {signum: signal.signal(signum, _note_signal) for signum in QUIT_SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)

    def _read(self) -> None:
        try:
            data = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        for signum in data:
            self._on_signal(signum)

    def close(self) -> None:
        """Give the signals back to Python's handling (after the event loop)."""
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for signum, handler in self._previous.items():
            with contextlib.suppress(TypeError, ValueError):
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._reader.close()
        self._writer.close()


def _note_signal(signum: int, frame: object) -> None:
    """Nothing to do here: the number already went to the wake-up socket."""


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
        try:
            exit_after_frames = int(os.environ[EXIT_AFTER_FRAMES_ENV])
        except ValueError:  # the command refuses it with a message; here it is only ignored
            log.warning("%s is not a whole number: ignored", EXIT_AFTER_FRAMES_ENV)
    shown_time_file = os.environ.get(SHOWN_TIME_FILE_ENV)

    theme = Theme.named(settings.theme, settings.font_scale)
    app = application(theme)
    quit_status: list[int] = []

    def quit_on_signal(signum: int) -> None:
        if quit_status:  # already closing: a second Ctrl+C changes nothing
            return
        quit_status.append(128 + signum)
        log.info("%s: closing the window", signal.Signals(signum).name)
        window.close()  # saves the settings, stops the simulation
        app.exit(quit_status[0])

    bridge = SignalBridge(quit_on_signal)
    window = create_window(config, theme=theme, scenario=scenario, preset_name=preset_name)
    if settings.geometry is not None:
        window.restoreGeometry(settings.geometry)
    window.set_controls_visible(settings.controls_visible)

    if shown_time_file:

        def write_shown_time() -> None:
            try:
                atomic_write_text(shown_time_file, f"{time.time():.6f}\n")
            except OSError as error:  # automation's file, not the lecturer's: a log line, not a crash
                log.warning("could not write %s: %s", SHOWN_TIME_FILE_ENV, error)

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
    # Closing the last window also posted a Quit event, still queued after exec() returned: if
    # anything processed it later, it would mark the application as quitting for good, and every
    # event loop started afterwards in this process (a dialog's, a later launch()'s) would return
    # at once without delivering a timer or an event.
    QCoreApplication.removePostedEvents(app, QEvent.Type.Quit)
    bridge.close()
    window.controller.quit()
    log.debug("event loop ended with status %d", status)
    return int(status)
