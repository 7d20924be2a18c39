"""The status bar: iteration, updates and frames per second, ρ, σ_max and the NaN/Inf alert; and
what the window says about a run (``RunMessages``)."""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from gradlab.core import Frame
from gradlab.core.files import bounded
from gradlab.ui.plot_common import format_number
from gradlab.ui.presenter import Banner, Notice
from gradlab.ui.session import RunState, RunStatus
from gradlab.ui.throttle import Throttle

REFRESH_INTERVAL_S = 0.25  # relaying out the status bar 60 times a second would cost frames


class RateMeter:
    """Events per second over the last ``window_s`` seconds."""

    def __init__(self, window_s: float = 1.0) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()

    def clear(self) -> None:
        self._samples.clear()

    def add(self, count: float, now: float | None = None) -> None:
        """Record the running total ``count`` at time ``now``."""
        now = time.monotonic() if now is None else now
        self._samples.append((now, count))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.window_s:
            self._samples.popleft()

    def rate(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, c0), (t1, c1) = self._samples[0], self._samples[-1]
        return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0


class StatusPanel(QStatusBar):
    """Readouts of the latest frame, refreshed a few times per second, and a red alert."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.iteration_label = QLabel()
        self.updates_label = QLabel()
        self.fps_label = QLabel()
        self.radius_label = QLabel()
        self.sigma_label = QLabel()
        self.alert_label = QLabel()
        self.alert_label.setObjectName("alert")
        self.alert_label.hide()
        # Permanent, so that a temporary message (which hides normal widgets) never hides it.
        self.addPermanentWidget(self.alert_label)
        for label in (
            self.iteration_label,
            self.updates_label,
            self.fps_label,
            self.radius_label,
            self.sigma_label,
        ):
            self.addPermanentWidget(label)
        self.fit_widths()
        self.updates = RateMeter()
        self.frames = RateMeter()
        self._frames_shown = 0
        self._latest: Frame | None = None
        # At most every REFRESH_INTERVAL_S, and the last frame of a burst always shows (the
        # readouts lagged, or stayed at "–" after a short run, when the last one fell in between).
        self._throttle = Throttle(round(REFRESH_INTERVAL_S * 1000), self._show_latest, self)
        self.clear()

    def fit_widths(self) -> None:
        """Fixed widths: numbers changing length must not make the bar jump or cut text."""
        for label, widest in (
            (self.iteration_label, "iteration 0000000"),
            (self.updates_label, "00000.0 updates/s"),
            (self.fps_label, "000 fps"),
            (self.radius_label, "ρ 0.000e+00"),
            (self.sigma_label, "σₘₐₓ 0.000e+00"),
        ):
            # The bar's own font: at its FontChange the labels may not have theirs yet.
            label.setMinimumWidth(self.fontMetrics().horizontalAdvance(widest) + 12)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.fit_widths()  # Bigger / Smaller: the widths follow the type

    def clear(self) -> None:
        self.updates.clear()
        self.frames.clear()
        self._latest = None
        self._throttle.cancel()
        self.set_alert("")
        self.iteration_label.setText("iteration –")
        self.updates_label.setText("– updates/s")
        self.fps_label.setText("– fps")
        self.radius_label.setText("ρ –")
        self.sigma_label.setText("σₘₐₓ –")

    def frame_shown(self, frame: Frame) -> None:
        now = time.monotonic()
        self._frames_shown += 1
        self.frames.add(self._frames_shown, now)
        self.updates.add(frame.iteration, now)
        self._latest = frame
        if frame.nonfinite:
            self.set_alert(f"⚠ NaN/Inf: {frame.nonfinite.describe()}")
        self._throttle.request()

    @property
    def shown_iteration(self) -> str:
        """The iteration the readouts show ("–" before the first frame)."""
        return self.iteration_label.text().removeprefix("iteration ")

    def refresh(self) -> None:
        """Show the latest frame now (not waiting for the next of the few refreshes a second)."""
        self._throttle.flush()

    def _show_latest(self) -> None:
        frame = self._latest
        if frame is None:
            return
        self.iteration_label.setText(f"iteration {frame.iteration}")
        self.updates_label.setText(f"{self.updates.rate():.1f} updates/s")
        self.fps_label.setText(f"{self.frames.rate():.0f} fps")
        self.radius_label.setText(f"ρ {format_number(frame.spectral_radius)}")
        self.sigma_label.setText(f"σₘₐₓ {format_number(frame.sigma_max)}")

    def set_alert(self, text: str) -> None:
        self.alert_label.setText(text)
        self.alert_label.setVisible(bool(text))
        # A run with inf/nan has stopped: its rates say nothing, and at 1280×720 with large type
        # the alert beside them pushed σ_max's readout off the bar.
        for rate in (self.updates_label, self.fps_label):
            rate.setVisible(not text)

    @property
    def alert_text(self) -> str:
        return "" if self.alert_label.isHidden() else self.alert_label.text()


class RunMessages:
    """What the window says about the run, each where it belongs: a failure in the banner, the
    run's own explanation ("Diverged at update 2 … turn on clipping") in the notice above the
    plots, the end of the run in the status bar; all of them gone when the next run starts."""

    def __init__(self, status: StatusPanel, banner: Banner, notice: Notice) -> None:
        self.status, self.banner, self.notice = status, banner, notice

    def run_started(self) -> None:
        self.status.clear()
        self.status.clearMessage()
        self.banner.hide()
        self.notice.hide()

    def status_changed(self, status: RunStatus) -> None:
        if status.state == RunState.FAILED:
            # One sentence of what happened (bounded), one of what to do: never two instructions.
            error = bounded(status.error)
            text = error if status.error.startswith("The simulation") else f"The simulation stopped: {error}"
            self.banner.show_message(f"{text}\nChange a control or press Reset (R) to start again.")
            self.status.set_alert("⚠ simulation error")
        elif status.state == RunState.FINISHED and not status.message:
            # (A run that explains its own end, "Diverged at update 2 … turn on clipping", says so
            # in the notice: a second instruction in the status bar would only be cut off.)
            self.status.showMessage("Run finished. Change a control or press Reset (R).")
        if status.message and self.notice.text != status.message:
            self.notice.show_message(status.message)  # in full: the status bar would cut it
