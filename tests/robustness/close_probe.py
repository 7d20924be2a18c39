"""Run ``python -m gradlab`` exactly, with two measuring hooks for the shutdown tests.

    python tests/robustness/close_probe.py [gradlab arguments]

- ``GRADLAB_PROBE_CLOSE_TIME_FILE=path``: when the main window's close begins (a user's close,
  or ``GRADLAB_EXIT_AFTER_FRAMES``), write the wall-clock time (``time.time()``) to ``path``;
- ``GRADLAB_PROBE_CLOSE_AFTER_MS=N``: close the main window N ms after it was first shown, as a
  user would, at any moment of the start-up or of a run;
- ``GRADLAB_PROBE_TRACE_FILE=path``: append "phase time" lines (close begins, close ends, the
  event loop ended, exit handlers begin and end), to tell where the time of a slow exit went.

Nothing else changes: the hooks wrap ``MainWindow.closeEvent`` and ``showEvent``, then gradlab's
own ``__main__`` runs. The simulation processes (spawned) import ``gradlab.__main__``, not this file.
"""

from __future__ import annotations

import os
import runpy
import time
from pathlib import Path

CLOSE_TIME_FILE_ENV = "GRADLAB_PROBE_CLOSE_TIME_FILE"
CLOSE_AFTER_ENV = "GRADLAB_PROBE_CLOSE_AFTER_MS"
TRACE_FILE_ENV = "GRADLAB_PROBE_TRACE_FILE"


def trace(phase: str) -> None:
    path = os.environ.get(TRACE_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{phase} {time.time():.6f}\n")


def install_hooks() -> None:
    import atexit

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from gradlab.ui.main_window import MainWindow

    close_time_file = os.environ.get(CLOSE_TIME_FILE_ENV)
    close_after = os.environ.get(CLOSE_AFTER_ENV)
    original_close = MainWindow.closeEvent
    original_show = MainWindow.showEvent

    def close_event(self, event):  # type: ignore[no-untyped-def]
        if close_time_file and not Path(close_time_file).exists():
            Path(close_time_file).write_text(f"{time.time():.6f}\n", encoding="utf-8")
        trace("close-begins")
        original_close(self, event)
        trace("close-ends")
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(lambda: trace("event-loop-ends"))

    armed = False

    def show_event(self, event):  # type: ignore[no-untyped-def]
        nonlocal armed
        original_show(self, event)
        if close_after is not None and not armed:
            armed = True
            QTimer.singleShot(int(close_after), self.close)

    # Registered after multiprocessing's own exit handler, so it runs before it (last in, first out).
    atexit.register(trace, "interpreter-exit-begins")
    MainWindow.closeEvent = close_event  # type: ignore[method-assign]
    MainWindow.showEvent = show_event  # type: ignore[method-assign]


if __name__ == "__main__":
    import atexit

    # Registered first, so it runs last of all exit handlers: what follows is the interpreter's
    # own teardown (modules, objects, Qt).
    atexit.register(trace, "exit-handlers-done")
    install_hooks()
    runpy.run_module("gradlab", run_name="__main__", alter_sys=True)
