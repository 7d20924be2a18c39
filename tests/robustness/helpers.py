"""Shared tools of the robustness tests: error capture, modal-dialog guard, process and memory probes."""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from patience import PATIENCE_S
from PySide6.QtCore import QMessageLogContext, QObject, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from gradlab.core import Config

REPO = Path(__file__).resolve().parents[2]

# The base scene of the window tests here: small, so that hundreds of updates run per second and
# a test (or the monkey) itself decides when things get big.
SMALL = Config(hidden_size=12, seq_len=30, batch_size=4)

# Qt messages that say nothing about gradlab and that the tests cannot avoid. Each entry says why.
BENIGN_QT_MESSAGES: tuple[tuple[str, str], ...] = (
    # The offscreen platform plugin has no window manager: it cannot pass size hints on and
    # says so whenever a window is shown or resized (no such message on xcb/Windows/macOS).
    (r"This plugin does not support propagateSizeHints\(\)", "offscreen platform limitation"),
    # Same: the offscreen plugin cannot raise a window or hand it the keyboard focus.
    (
        r"This plugin does not support (raise|requestActivate|grabbing the keyboard|setting window opacity)",
        "offscreen platform limitation",
    ),
    # The offscreen screen is 800×800 while the window's minimum is 1024×600: Qt reports the
    # geometry it could not honour. A real screen is larger; resizing below the minimum is what
    # the monkey tries on purpose.
    (r"QWidget?Window::setGeometry: Unable to set geometry", "offscreen screen smaller than the window"),
    (r"QWindowsWindow::setGeometry", "platform geometry notice"),
    # Fonts: the test machine has few fonts; Qt reports substitutions, not errors.
    (r"^QFont::fromString|Populating font family aliases", "font substitution on a machine with few fonts"),
)


@dataclass
class Problem:
    kind: str  # "exception", "qt", "log"
    text: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text}"


@dataclass
class ErrorRecorder:
    """Records uncaught exceptions (any thread), Qt warnings/criticals and ERROR log records.

    Installed for the duration of a test by the ``errors`` fixture. ``check()`` raises an
    AssertionError listing what was recorded; ``context`` is added to the message (the seed and
    the last actions of a monkey session, say).
    """

    problems: list[Problem] = field(default_factory=list)
    ignored_qt: list[str] = field(default_factory=list)
    context: Callable[[], str] = lambda: ""
    _old_excepthook: Any = None
    _old_thread_hook: Any = None
    _old_qt_handler: Any = None
    _log_handler: logging.Handler | None = None

    def install(self) -> None:
        self._old_excepthook = sys.excepthook
        self._old_thread_hook = threading.excepthook
        sys.excepthook = self._excepthook
        threading.excepthook = self._thread_hook
        self._old_qt_handler = qInstallMessageHandler(self._qt_handler)
        recorder = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                recorder.problems.append(Problem("log", f"{record.name}: {record.getMessage()}"))

        self._log_handler = _Handler(level=logging.ERROR)
        logging.getLogger("gradlab").addHandler(self._log_handler)

    def uninstall(self) -> None:
        sys.excepthook = self._old_excepthook
        threading.excepthook = self._old_thread_hook
        qInstallMessageHandler(self._old_qt_handler)
        if self._log_handler is not None:
            logging.getLogger("gradlab").removeHandler(self._log_handler)

    def _excepthook(self, kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        self.problems.append(Problem("exception", text))

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        self.problems.append(Problem("exception", f"in thread {args.thread!r}:\n{text}"))

    def _qt_handler(self, mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if mode in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
            return
        if mode == QtMsgType.QtWarningMsg and any(re.search(p, message) for p, _ in BENIGN_QT_MESSAGES):
            self.ignored_qt.append(message)
            return
        self.problems.append(Problem("qt", f"{mode.name}: {message}"))

    def check(self, what: str = "") -> None:
        if not self.problems:
            return
        listed = "\n".join(str(p) for p in self.problems[:20])
        more = f"\n… and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        context = self.context()
        raise AssertionError(
            f"{len(self.problems)} error(s) recorded{(' ' + what) if what else ''}:\n{listed}{more}"
            + (f"\n{context}" if context else "")
        )


class ModalGuard(QObject):
    """Makes sure no modal dialog or popup can block a test.

    The static convenience dialogs (file, message, input) are replaced by stand-ins that answer
    at once; anything else that is opened modally (``QDialog.exec``, a message box built by
    hand) or pops up (a menu) is closed by a timer within ``interval_ms``, since a nested event
    loop still runs timers. What was closed is recorded in ``closed``.
    """

    def __init__(
        self, save_dir: Path, open_files: list[Path], rng_choice: Callable[[list[Any]], Any], interval_ms: int = 50
    ) -> None:
        super().__init__()
        self.closed: list[str] = []
        self.answered: list[str] = []
        self._save_dir = save_dir
        self._open_files = open_files
        self._choice = rng_choice
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.close_modals)

    def patch(self, monkeypatch: Any) -> None:
        from PySide6.QtWidgets import QColorDialog, QFileDialog, QFontDialog, QInputDialog, QMessageBox

        guard = self

        def save_name(*args: Any, **kwargs: Any) -> tuple[str, str]:
            filters = (
                " ".join(str(a) for a in args[1:] if isinstance(a, str))
                + " "
                + str(kwargs.get("filter", "") or kwargs.get("selectedFilter", ""))
            )
            extensions = re.findall(r"\*\.(\w+)", filters) or ["png"]
            answer = guard._choice(
                ["", str(guard._save_dir / f"export-{len(guard.answered)}.{guard._choice(extensions)}")]
            )
            guard.answered.append(f"save file dialog -> {answer!r}")
            return answer, ""

        def open_name(*args: Any, **kwargs: Any) -> tuple[str, str]:
            answer = guard._choice(["", *[str(p) for p in guard._open_files]])
            guard.answered.append(f"open file dialog -> {answer!r}")
            return answer, ""

        def open_names(*args: Any, **kwargs: Any) -> tuple[list[str], str]:
            name, selected = open_name()
            return ([name] if name else []), selected

        def directory(*args: Any, **kwargs: Any) -> str:
            answer = guard._choice(["", str(guard._save_dir)])
            guard.answered.append(f"directory dialog -> {answer!r}")
            return answer

        def message(kind: str) -> Callable[..., Any]:
            def answer(*args: Any, **kwargs: Any) -> Any:
                guard.answered.append(f"QMessageBox.{kind}: {[a for a in args if isinstance(a, str)]}")
                if kind == "question":
                    return guard._choice([QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No])
                return QMessageBox.StandardButton.Ok

            return answer

        def input_cancelled(*args: Any, **kwargs: Any) -> tuple[Any, bool]:
            guard.answered.append("input dialog -> cancelled")
            return None, False

        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(open_name))
        monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(open_names))
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(directory))
        for kind in ("information", "warning", "critical", "question", "about", "aboutQt"):
            monkeypatch.setattr(QMessageBox, kind, staticmethod(message(kind)))
        for kind in ("getText", "getInt", "getDouble", "getItem", "getMultiLineText"):
            monkeypatch.setattr(QInputDialog, kind, staticmethod(input_cancelled))
        monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: guard._no_colour()))
        monkeypatch.setattr(QFontDialog, "getFont", staticmethod(lambda *a, **k: (False, a[0] if a else None)))
        self._timer.start()

    @staticmethod
    def _no_colour() -> Any:
        from PySide6.QtGui import QColor

        return QColor()  # invalid: "cancelled"

    def close_modals(self) -> None:
        for _ in range(5):
            widget = QApplication.activeModalWidget() or QApplication.activePopupWidget()
            if widget is None:
                return
            self.closed.append(f"{type(widget).__name__} {widget.windowTitle()!r}")
            if isinstance(widget, QDialog):
                widget.reject()
            else:
                widget.close()

    def stop(self) -> None:
        self._timer.stop()


def extra_top_level_windows(main: QWidget) -> list[QWidget]:
    """Visible top-level windows other than ``main`` (presenter views, help windows, dialogs)."""
    return [w for w in QApplication.topLevelWidgets() if w is not main and w.isVisible() and w.isWindow()]


# ---- processes and memory ------------------------------------------------------------------
def rss_mb(pid: int | None = None) -> float:
    from gradlab.benchmarks.soak import rss_mb as _rss_mb

    return _rss_mb(pid)


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces or parentheses; split after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def simulation_children(pid: int | None = None) -> list[int]:
    """Running children of ``pid`` (default: this process) started by multiprocessing's spawn
    (not its resource tracker)."""
    return [c for c in children_of(pid or os.getpid()) if is_running(c) and "spawn_main" in cmdline(c)]


def wait_until(condition: Callable[[], bool], timeout_s: float, step: Callable[[], None] | None = None) -> bool:
    """Poll ``condition`` (running ``step`` in between, e.g. processEvents) until true or timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        if step is not None:
            step()
        time.sleep(0.005)


def all_finite(values: Iterable[float]) -> bool:
    import math

    return all(math.isfinite(v) for v in values)


def stolen_s() -> float:
    """Seconds per CPU that the hypervisor has run other guests instead of this virtual machine
    since boot ("steal" in /proc/stat; 0 on real hardware and where there is no /proc/stat).

    On the shared 2-core test machines a whole virtual machine is sometimes descheduled for
    hundreds of ms: no program in it runs, however fast. The 1 s limits count time the machine
    was running; what it lost is reported beside them.
    """
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = int(stat.readline().split()[8])
    except (OSError, IndexError, ValueError):
        return 0.0
    return ticks / (os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1))


# What a test holds the app to for one action: the GUI thread's own CPU time (the work done on it,
# whatever else the machine runs) within ACTION_CPU_LIMIT_S, and the wall time within HANG_LIMIT_S
# (a window blocked on a pipe, a file or a process never comes back; a busy machine only delays).
# The wall-clock figures a lecturer feels (event-loop stall p99, control change -> new frame) are
# measured by ``python -m gradlab.benchmarks``, not asserted.
ACTION_CPU_LIMIT_S = 1.0
HANG_LIMIT_S = PATIENCE_S  # nothing a user does may block the window this long, even on a busy machine


class ActionClock:
    """Times one action: ``running_s`` is the wall time minus the time stolen from the machine,
    which is what a time limit may fairly hold against the app; ``describe()`` says all three."""

    def __init__(self) -> None:
        self.wall0, self.stolen0, self.cpu0 = time.perf_counter(), stolen_s(), time.thread_time()
        self.wall_s = self.stolen_s = self.cpu_s = 0.0

    def stop(self) -> ActionClock:
        self.wall_s = time.perf_counter() - self.wall0
        self.stolen_s = max(0.0, stolen_s() - self.stolen0)
        self.cpu_s = time.thread_time() - self.cpu0
        return self

    @property
    def running_s(self) -> float:
        return max(0.0, self.wall_s - self.stolen_s)

    def describe(self) -> str:
        return f"{self.wall_s:.3f} s wall, {self.stolen_s:.3f} s stolen, GUI thread CPU {self.cpu_s:.3f} s"

    def over_limits(self, idle_s: float = 0.0) -> bool:
        """The action did too much on the GUI thread, or blocked it (``idle_s``: waiting that was
        part of the action itself)."""
        return self.cpu_s > ACTION_CPU_LIMIT_S or self.running_s - idle_s > HANG_LIMIT_S


class StallMonitor(QObject):
    """The longest gap between two ticks of a short GUI-thread timer: how long the event loop
    was ever blocked (a frozen window) while the monitor ran, not counting time stolen from the
    machine (``stolen_s``)."""

    def __init__(self, interval_ms: int = 20) -> None:
        super().__init__()
        self.longest_s = 0.0
        self.longest_at = ""
        self.where: Callable[[], str] = lambda: ""
        self._clock = ActionClock()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._clock = ActionClock()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def reset(self) -> None:
        """Forget the gap so far (e.g. after a deliberate blocking step of the test itself)."""
        self._clock = ActionClock()

    def _tick(self) -> None:
        gap = self._clock.stop()
        self._clock = ActionClock()
        if gap.running_s > self.longest_s:
            self.longest_s = gap.running_s
            self.longest_at = f"{self.where()} ({gap.describe()})"


def controller_state(window: Any) -> str:
    """What the window's simulation controller is doing, for failure messages."""
    controller = window.controller
    from gradlab.ui.simulation import live_processes

    in_use = [f"pid {p.pid} alive={p.is_alive()} exitcode={p.exitcode}" for p in controller.processes]
    return (
        f"controller: run {controller.run_id}, paused={controller.paused}, running={controller.running}, "
        f"caught up={controller.caught_up}, processes (the run's, a standby) {in_use}, "
        f"live processes {[p.pid for p in live_processes()]}, frames shown {window.frames_displayed}, "
        f"config {controller.config}"
    )
