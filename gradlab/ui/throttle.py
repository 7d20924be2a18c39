"""``Throttle``: frequent requests to redraw something turned into at most one redraw per interval,
the first at once and the last one always (superqt's ``qthrottled``, in small)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class Throttle:
    """Calls ``redraw`` for the first request after a quiet spell at once, then at most once every
    ``interval_ms`` while requests keep coming, and once more after the last of them: readouts
    that change 60 times a second cannot be read, and re-laying them out costs frames, but the
    latest value must never be left unshown (after a short run, or the last frame of a burst)."""

    def __init__(self, interval_ms: int, redraw: Callable[[], None], parent: QObject) -> None:
        self._redraw = redraw
        self._pending = False
        self._timer = QTimer(parent)  # a child of ``parent``: it goes with it
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def request(self) -> None:
        """Something changed: redraw now, or at the end of the current interval."""
        if self._timer.isActive():
            self._pending = True
        else:
            self.flush()
            self._timer.start()

    def flush(self) -> None:
        """Redraw now (what a request still pending would have drawn)."""
        self._pending = False
        self._redraw()

    def cancel(self) -> None:
        """Drop a pending redraw; the next request redraws at once."""
        self._pending = False
        self._timer.stop()

    def _tick(self) -> None:
        if self._pending:
            self.flush()
            self._timer.start()
