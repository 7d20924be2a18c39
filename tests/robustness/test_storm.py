"""Start/stop storms: a thousand config changes in rapid succession leave exactly one run behind —
the last one — no process or thread behind it, and no memory growth; a change is never held up
by an update nobody wants any more."""

from __future__ import annotations

import gc
import os
import random
import threading
import time

import pytest
from helpers import HANG_LIMIT_S, SMALL, ActionClock, controller_state, rss_mb, simulation_children, wait_until
from patience import PATIENCE_MS, PATIENCE_S
from PySide6.QtWidgets import QApplication

from gradlab.core import Config
from gradlab.ui.simulation import Delivery, SimulationController, live_processes

SEED = int(os.environ.get("GRADLAB_STORM_SEED", "6"))
CHANGES = 1000
WARM_UP_CHANGES = 150
RSS_GROWTH_LIMIT_MB = 20.0
# A run whose first update takes several seconds on the 2-core test machine (~4 s of BPTT and
# ~2 s for the first eigen-decomposition of a 1024×1024 W_hh), holding about 1.1 GB.
SLOW = Config(hidden_size=1024, seq_len=1000, batch_size=16)


def _change_something(window, rng: random.Random) -> str:  # type: ignore[no-untyped-def]
    """One user-like change of a control, to a small value (so that the runs stay fast)."""
    controls = window.controls
    what = rng.randrange(7)
    if what == 0:
        controls.seq_spin.setValue(rng.randint(5, 60))
    elif what == 1:
        controls.scale_spin.setValue(round(rng.uniform(0.3, 1.6), 3))
    elif what == 2:
        controls.hidden_size.setValue(rng.randint(2, 16))
    elif what == 3:
        controls.seed.setValue(rng.randrange(1000))
    elif what == 4:
        controls.cell.setCurrentIndex(rng.randrange(controls.cell.count()))
    elif what == 5:
        controls.activation.setCurrentIndex(rng.randrange(controls.activation.count()))
    else:
        controls.lr.setValue(round(rng.uniform(0.001, 0.05), 5))
    return ("seq_len", "w_rec_scale", "hidden_size", "seed", "cell", "activation", "lr")[what]


def _storm(window, rng: random.Random, changes: int) -> None:  # type: ignore[no-untyped-def]
    """``changes`` control changes: in bursts of 1-20 with no event processing in between (a
    held-down arrow key, a fast drag), then the events are processed once, at most 1 s each."""
    app = QApplication.instance()
    done = 0
    while done < changes:
        burst = min(rng.randint(1, 20), changes - done)
        clock = ActionClock()
        for _ in range(burst):
            _change_something(window, rng)
        app.processEvents()
        took = clock.stop()
        assert not took.over_limits(), f"a burst of {burst} changes took {took.describe()} (after {done} changes)"
        done += burst


def _wait_for_frame_of_current_run(window, qtbot, timeout_s: float = PATIENCE_S) -> Delivery:  # type: ignore[no-untyped-def]
    deliveries: list[Delivery] = []
    window.controller.yielded.connect(deliveries.append)
    run_id = window.controller.run_id
    try:
        assert wait_until(
            lambda: any(d.run_id == run_id and d.frame is not None for d in deliveries),
            timeout_s,
            step=QApplication.processEvents,
        ), f"no frame of run {run_id} within {timeout_s} s; {controller_state(window)}"
    finally:
        window.controller.yielded.disconnect(deliveries.append)
    return next(d for d in deliveries if d.run_id == run_id and d.frame is not None)


def _settle(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)


def test_a_thousand_changes_leave_only_the_last_run(small_window, qtbot, errors):
    window = small_window
    rng = random.Random(SEED)
    qtbot.waitUntil(lambda: window.frames_displayed >= 1, timeout=PATIENCE_MS)
    threads_before = threading.active_count()

    _storm(window, rng, WARM_UP_CHANGES)
    _wait_for_frame_of_current_run(window, qtbot)
    _settle(0.5)
    gc.collect()
    rss_before = rss_mb()

    _storm(window, rng, CHANGES)
    last = window.controls.config
    # The last config set is the one that runs, and a frame of it arrives.
    assert window.controller.config == last
    delivery = _wait_for_frame_of_current_run(window, qtbot)
    assert delivery.config == last
    assert delivery.frame.log10_dh_norm.size == last.seq_len  # type: ignore[union-attr]
    assert window.frames_displayed > 0

    # One simulation process: the current one (the runs are fast, so there is no standby).
    assert wait_until(lambda: len(live_processes()) == 1, 3.0, step=QApplication.processEvents), controller_state(
        window
    )
    assert [p.pid for p in live_processes()] == [window.controller.process_pid]
    assert simulation_children() == [window.controller.process_pid]
    assert threading.active_count() <= threads_before

    _settle(0.5)
    gc.collect()
    growth = rss_mb() - rss_before
    print(f"\nRSS of the window's process: {rss_before:.1f} MB before, growth {growth:+.1f} MB over {CHANGES} changes")
    assert growth < RSS_GROWTH_LIMIT_MB

    window.close()
    assert not live_processes()
    assert wait_until(lambda: not simulation_children(), 1.0), simulation_children()
    errors.check()


def test_a_thousand_restarts_of_the_controller_back_to_back(qtbot, errors):
    """The same storm one level down: 1,000 ``start`` calls without a single event processed in
    between (the pipe must not fill up and block the GUI thread), then the last run shows."""
    controller = SimulationController()
    deliveries: list[Delivery] = []
    controller.yielded.connect(deliveries.append)
    rng = random.Random(SEED)
    try:
        configs = [
            SMALL.replace(seq_len=rng.randint(5, 60), w_rec_scale=round(rng.uniform(0.3, 1.6), 3), seed=i)
            for i in range(CHANGES)
        ]
        started = time.perf_counter()
        clocks = []
        for config in configs:
            clock = ActionClock()
            run_id = controller.start(config)
            clocks.append(clock.stop())
        took = time.perf_counter() - started
        longest = max(clocks, key=lambda c: c.running_s)
        print(f"\n{CHANGES} starts in {took:.2f} s, the longest {longest.describe()}")
        assert not any(c.over_limits() for c in clocks)
        assert controller.config == configs[-1]
        qtbot.waitUntil(
            lambda: any(d.run_id == run_id and d.frame is not None for d in deliveries), timeout=PATIENCE_MS
        )
        assert all(d.run_id == run_id for d in deliveries), "a superseded run was delivered"
        frame = next(d.frame for d in deliveries if d.run_id == run_id and d.frame is not None)
        assert frame.log10_dh_norm.size == configs[-1].seq_len  # type: ignore[union-attr]
        assert len(live_processes()) == 1
    finally:
        assert controller.quit(timeout_s=PATIENCE_S)
    assert not live_processes()
    assert wait_until(lambda: not simulation_children(), HANG_LIMIT_S)
    errors.check()


def test_a_change_during_a_slow_first_update_shows_at_once(small_window, qtbot, errors):
    """Set a scene whose first update takes many seconds, then change a control before that
    update is done: the new run must not wait for an update nobody wants any more."""
    window = small_window
    qtbot.waitUntil(lambda: window.frames_displayed >= 1, timeout=PATIENCE_MS)
    window.set_config(SLOW)
    qtbot.wait(500)  # the slow run's first update is under way
    asked = time.monotonic()
    window.set_config(SMALL.replace(seq_len=17))
    delivery = _wait_for_frame_of_current_run(window, qtbot, timeout_s=60.0)
    latency = time.monotonic() - asked
    print(f"\nfirst frame of the new run {latency:.2f} s after the change")
    assert delivery.frame.log10_dh_norm.size == 17  # type: ignore[union-attr]
    errors.check()


def test_changes_during_a_slow_update_never_block_the_window(small_window, qtbot, errors):
    """Hundreds of control changes (a slider dragged back and forth) while the simulation process
    is inside one long update and cannot read its commands: each is processed within 1 s."""
    window = small_window
    rng = random.Random(SEED)
    qtbot.waitUntil(lambda: window.frames_displayed >= 1, timeout=PATIENCE_MS)
    window.set_config(SLOW)
    qtbot.wait(300)
    app = QApplication.instance()
    timings: list[tuple[float, int, str]] = []
    for index in range(600):
        clock = ActionClock()
        what = _change_something(window, rng)
        app.processEvents()
        took = clock.stop()
        timings.append((took.running_s, index, what))
        assert not took.over_limits(), f"change {index} ({what}) took {took.describe()}; {controller_state(window)}"
    slowest = sorted(timings, reverse=True)[:5]
    print(
        "\n600 changes during a slow update, the slowest: "
        + ", ".join(f"#{i} {w} {t * 1000:.0f} ms" for t, i, w in slowest)
    )
    window.close()
    assert not live_processes()
    errors.check()


@pytest.mark.slow
def test_ten_thousand_changes_leave_only_the_last_run(small_window, qtbot, errors):
    window = small_window
    rng = random.Random(SEED + 1)
    qtbot.waitUntil(lambda: window.frames_displayed >= 1, timeout=PATIENCE_MS)
    _storm(window, rng, WARM_UP_CHANGES)
    _wait_for_frame_of_current_run(window, qtbot)
    _settle(0.5)
    gc.collect()
    rss_before = rss_mb()
    _storm(window, rng, 10 * CHANGES)
    last = window.controls.config
    assert window.controller.config == last
    assert _wait_for_frame_of_current_run(window, qtbot).config == last
    assert wait_until(lambda: len(live_processes()) == 1, 3.0, step=QApplication.processEvents)
    _settle(0.5)
    gc.collect()
    growth = rss_mb() - rss_before
    print(f"\nRSS growth over {10 * CHANGES} changes: {growth:+.1f} MB")
    assert growth < RSS_GROWTH_LIMIT_MB
    errors.check()
