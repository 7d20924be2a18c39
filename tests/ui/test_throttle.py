"""A throttled redraw: the first request of a burst draws at once, the rest of the burst draws once
more when the interval ends (never left unshown), and a cancelled request draws nothing."""

from __future__ import annotations

from patience import PATIENCE_MS
from PySide6.QtCore import QObject

from gradlab.ui.throttle import Throttle


def test_a_burst_draws_at_once_and_its_last_request_always(qtbot):  # type: ignore[no-untyped-def]
    owner = QObject()
    drawn: list[int] = []
    latest = [0]
    throttle = Throttle(50, lambda: drawn.append(latest[0]), owner)
    latest[0] = 1
    throttle.request()
    assert drawn == [1]  # the first after a quiet spell: at once
    for value in (2, 3, 4):
        latest[0] = value
        throttle.request()
    assert drawn == [1]  # within the interval: coalesced
    qtbot.waitUntil(lambda: drawn == [1, 4], timeout=PATIENCE_MS)  # the last one shows


def test_flush_draws_now_and_cancel_drops_what_is_pending(qtbot):  # type: ignore[no-untyped-def]
    owner = QObject()
    drawn: list[str] = []
    throttle = Throttle(60_000, lambda: drawn.append("x"), owner)  # an interval no test outlives
    throttle.request()
    throttle.request()  # pending until the interval ends
    throttle.flush()
    assert drawn == ["x", "x"]
    throttle.request()  # pending again
    throttle.cancel()
    throttle.request()  # the interval was stopped: draws at once
    assert drawn == ["x", "x", "x"]
