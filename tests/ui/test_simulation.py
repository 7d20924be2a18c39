"""The simulation process and its controller: frames arrive, stale ones never do, pause/step/reset, errors, quit."""

from __future__ import annotations

import errno
import multiprocessing.context
import os
import signal
import sys

import pytest
import simulated_failures
from patience import PATIENCE_MS, PATIENCE_S

from gradlab.core import Config
from gradlab.ui import simulation, simulation_process
from gradlab.ui.simulation import Delivery, SimulationController, live_processes
from gradlab.ui.simulation_process import INTERRUPT_SIGNAL, NOT_ENOUGH_MEMORY


@pytest.fixture
def controller(qtbot):  # type: ignore[no-untyped-def]
    ctrl = SimulationController()
    yield ctrl
    assert ctrl.quit(timeout_s=PATIENCE_S)


def _collect(controller: SimulationController) -> list[Delivery]:
    deliveries: list[Delivery] = []
    controller.yielded.connect(deliveries.append)
    return deliveries


def test_frames_arrive_with_the_run_id_and_every_update_in_the_history(controller, qtbot, small_config):
    deliveries = _collect(controller)
    run_id = controller.start(small_config)
    qtbot.waitUntil(lambda: sum(len(d.history) for d in deliveries) >= 60, timeout=PATIENCE_MS)
    assert {d.run_id for d in deliveries} == {run_id}
    # Frames are coalesced to the display rate, but the per-update history has no gap.
    iterations = [int(i) for d in deliveries for i in d.history.iteration]
    assert iterations == list(range(1, len(iterations) + 1))
    assert all(d.frame is not None and d.frame.iteration == d.history.iteration[-1] for d in deliveries)


def test_frames_of_a_superseded_run_are_never_delivered(controller, qtbot):
    deliveries = _collect(controller)
    slow = Config(hidden_size=64, seq_len=400, batch_size=8)
    controller.start(slow)
    qtbot.wait(30)  # the first run is now in the middle of an update
    new_id = controller.start(Config(hidden_size=8, seq_len=20, batch_size=4))
    qtbot.waitUntil(lambda: any(d.run_id == new_id for d in deliveries), timeout=PATIENCE_MS)
    after_restart = deliveries[[d.run_id for d in deliveries].index(new_id) :]
    assert all(d.run_id == new_id for d in after_restart)
    assert all(d.config.seq_len == 20 for d in after_restart)


@pytest.mark.skipif(INTERRUPT_SIGNAL is None, reason="updates are interrupted by a POSIX signal")
def test_a_restart_interrupts_a_long_update_in_the_same_process(controller, qtbot, monkeypatch):
    """A change during an update of several seconds does not wait for it, and needs no new process:
    the update of the superseded run is interrupted and the same process starts the new run."""
    # The standby takes over only if an interrupt has not taken within the grace period; on a busy
    # machine the interrupted process may not even be scheduled within 0.25 s. What this test checks
    # is that the interrupt takes, so the grace is made long enough for any machine.
    monkeypatch.setattr(simulation, "INTERRUPT_GRACE_S", 60.0)
    deliveries = _collect(controller)
    controller.start(Config(cell="lstm", hidden_size=256, seq_len=2000, batch_size=32))
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)  # started, and computing the first update
    qtbot.wait(500)  # inside the first update (several seconds on this kind of machine)
    assert not deliveries
    pid = controller.process_pid
    new_id = controller.start(Config(hidden_size=8, seq_len=20, batch_size=4))
    # Without the interrupt the new run would wait for the rest of the first update, which takes far
    # longer than this (minutes with the machine busy; the grace above keeps the standby out).
    qtbot.waitUntil(lambda: any(d.run_id == new_id for d in deliveries), timeout=60_000)
    assert controller.process_pid == pid, "the busy process was replaced instead of interrupted"
    assert all(d.run_id == new_id for d in deliveries)


def test_pause_step_play(controller, qtbot, small_config):
    deliveries = _collect(controller)
    controller.start(small_config)
    qtbot.waitUntil(lambda: len(deliveries) >= 2, timeout=PATIENCE_MS)
    controller.pause()
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)  # an update under way has arrived
    settled = deliveries[-1].frame.iteration  # type: ignore[union-attr]
    qtbot.wait(200)
    assert deliveries[-1].frame.iteration == settled  # type: ignore[union-attr]

    controller.step()
    qtbot.waitUntil(lambda: deliveries[-1].frame.iteration == settled + 1, timeout=PATIENCE_MS)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)
    assert deliveries[-1].frame.iteration == settled + 1  # type: ignore[union-attr]

    controller.resume()
    qtbot.waitUntil(lambda: deliveries[-1].frame.iteration > settled + 5, timeout=PATIENCE_MS)  # type: ignore[union-attr]


def test_a_restart_while_paused_shows_one_frame_of_the_new_run(controller, qtbot, small_config):
    deliveries = _collect(controller)
    controller.start(small_config)
    controller.pause()
    new_id = controller.start(small_config.replace(w_rec_scale=1.5))
    qtbot.waitUntil(lambda: any(d.run_id == new_id for d in deliveries), timeout=PATIENCE_MS)
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)
    new_frames = [d.frame.iteration for d in deliveries if d.run_id == new_id]  # type: ignore[union-attr]
    assert new_frames == [1]


def test_reset_starts_again_from_the_first_update(controller, qtbot, small_config):
    deliveries = _collect(controller)
    first = controller.start(small_config)
    qtbot.waitUntil(lambda: bool(deliveries) and deliveries[-1].frame.iteration > 10, timeout=PATIENCE_MS)  # type: ignore[union-attr]
    second = controller.reset()
    assert second != first
    qtbot.waitUntil(lambda: deliveries[-1].run_id == second, timeout=PATIENCE_MS)
    first_of_second = next(d for d in deliveries if d.run_id == second)
    assert first_of_second.history.iteration[0] == 1
    assert controller.config == small_config


def test_an_exception_in_the_simulation_becomes_a_message(qtbot, small_config):
    controller = SimulationController(run_path="simulated_failures:failing_run")
    deliveries = _collect(controller)
    try:
        with qtbot.waitSignal(controller.errored, timeout=PATIENCE_MS) as blocker:
            run_id = controller.start(small_config)
        assert blocker.args == [run_id, "RuntimeError: the simulation broke"]
        assert deliveries and deliveries[-1].frame.iteration == 2  # type: ignore[union-attr]
        # The controller is still usable: a new run starts and delivers (and fails the same way).
        new_id = controller.start(small_config)
        qtbot.waitUntil(lambda: deliveries[-1].run_id == new_id, timeout=PATIENCE_MS)
    finally:
        assert controller.quit(timeout_s=PATIENCE_S)


def test_running_out_of_memory_is_one_message_and_no_traceback(qtbot, small_config, capfd):
    controller = SimulationController(run_path="simulated_failures:memory_run")
    try:
        with qtbot.waitSignal(controller.errored, timeout=PATIENCE_MS) as blocker:
            run_id = controller.start(small_config)
        assert blocker.args == [run_id, NOT_ENOUGH_MEMORY]
    finally:
        assert controller.quit(timeout_s=PATIENCE_S)
    assert "Traceback" not in capfd.readouterr().err  # the simulation process shares this stderr


def test_a_dead_simulation_process_is_reported_and_replaced(qtbot, small_config):
    controller = SimulationController(run_path="simulated_failures:crashing_run")
    try:
        with qtbot.waitSignal(controller.errored, timeout=PATIENCE_MS) as blocker:
            controller.start(small_config)
        assert "stopped unexpectedly" in blocker.args[1]
        assert not controller.running
        deliveries = _collect(controller)
        new_id = controller.start(small_config)  # a fresh process
        qtbot.waitUntil(lambda: any(d.run_id == new_id for d in deliveries), timeout=PATIENCE_MS)
    finally:
        assert controller.quit(timeout_s=PATIENCE_S)


def test_a_process_that_cannot_be_started_is_one_message_not_a_hang(qtbot, small_config, monkeypatch):
    def refuse(self) -> None:  # type: ignore[no-untyped-def]
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    controller = SimulationController()
    try:
        with monkeypatch.context() as patch:
            patch.setattr(multiprocessing.context.SpawnProcess, "start", refuse)
            with qtbot.waitSignal(controller.errored, timeout=PATIENCE_MS) as blocker:
                run_id = controller.start(small_config)
        assert blocker.args == [run_id, "The simulation process could not start (Resource temporarily unavailable)."]
        assert not controller.running and not live_processes()
        deliveries = _collect(controller)
        new_id = controller.start(small_config)  # it can start now
        qtbot.waitUntil(lambda: any(d.run_id == new_id for d in deliveries), timeout=PATIENCE_MS)
    finally:
        assert controller.quit(timeout_s=PATIENCE_S)


def test_a_process_that_dies_before_it_is_ready_is_one_message(qtbot, small_config, monkeypatch):
    monkeypatch.setattr(simulation_process, "serve", simulated_failures.dies_at_start)
    controller = SimulationController()
    try:
        with qtbot.waitSignal(controller.errored, timeout=PATIENCE_MS) as blocker:
            run_id = controller.start(small_config)
        assert blocker.args == [run_id, "The simulation process could not start (exit code 3)."]
        qtbot.waitUntil(lambda: not controller.running, timeout=PATIENCE_MS)
    finally:
        assert controller.quit(timeout_s=PATIENCE_S)


def test_a_finite_run_ends_by_itself(controller, qtbot, small_config):
    with qtbot.waitSignal(controller.finished, timeout=PATIENCE_MS):
        controller.start(small_config.replace(iterations=5))
    assert not controller.running


def test_a_restart_does_not_wait_for_a_slow_update(controller, qtbot):
    """A run whose updates take seconds is replaced, not waited for."""
    deliveries = _collect(controller)
    slow = Config(cell="lstm", hidden_size=256, seq_len=3000, batch_size=16)
    controller.start(slow.replace(seq_len=2))
    qtbot.waitUntil(lambda: bool(deliveries), timeout=PATIENCE_MS)
    slow_id = controller.start(slow)
    # One slow update done: the controller knows this run's updates take long.
    qtbot.waitUntil(lambda: any(d.run_id == slow_id for d in deliveries), timeout=180_000)
    slow_deliveries = len(deliveries)
    new_id = controller.start(Config(hidden_size=8, seq_len=20, batch_size=4))
    qtbot.waitUntil(lambda: deliveries[-1].run_id == new_id, timeout=60_000)
    # Nothing of the slow run arrived after the change (how soon the new run shows is a benchmark
    # figure: python -m gradlab.benchmarks, "control change -> first new frame").
    assert all(d.run_id == new_id for d in deliveries[slow_deliveries:])


def test_quit_ends_every_process_promptly(qtbot, small_config):
    controller = SimulationController()
    for scale in (0.5, 0.9, 1.1, 1.5):  # one current and three superseded runs
        controller.start(small_config.replace(w_rec_scale=scale))
    qtbot.wait(50)
    assert controller.quit(timeout_s=PATIENCE_S)
    assert not live_processes()


def test_the_simulation_process_imports_no_qt():
    import subprocess
    import sys

    code = (
        "import sys, gradlab.ui.simulation_process;"
        " sys.exit(any(m.startswith(('PySide6', 'pyqtgraph', 'shiboken6')) for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_frozen_edges_hold_still_in_the_simulation_process(controller, qtbot, small_config):
    deliveries = _collect(controller)
    controller.start(small_config.replace(lr=0.1))
    qtbot.waitUntil(lambda: len(deliveries) >= 2, timeout=PATIENCE_MS)
    controller.set_edges_frozen(True)
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)  # what was computed before has arrived
    first = len(deliveries)
    qtbot.waitUntil(lambda: len(deliveries) >= first + 5, timeout=PATIENCE_MS)
    edges = [d.frame.w_hh_hist.edges for d in deliveries[first:]]  # type: ignore[union-attr]
    assert all((e == edges[0]).all() for e in edges)
    controller.set_edges_frozen(False)
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)
    later = len(deliveries)
    qtbot.waitUntil(lambda: len(deliveries) >= later + 5, timeout=PATIENCE_MS)
    moving = [d.frame.w_hh_hist.edges for d in deliveries[later:]]  # type: ignore[union-attr]
    assert any((e != moving[0]).any() for e in moving)


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32", reason="POSIX process signals")
def test_the_simulation_process_ignores_ctrl_c_and_the_run_goes_on(controller, qtbot, small_config):
    """Ctrl+C in the launching terminal reaches every process of its group: the window decides what
    it means (it quits and ends the simulation); the simulation process itself carries on."""
    deliveries = _collect(controller)
    run_id = controller.start(small_config)
    qtbot.waitUntil(lambda: len(deliveries) >= 2, timeout=PATIENCE_MS)
    pid = controller.process_pid
    assert pid is not None
    os.kill(pid, signal.SIGINT)
    seen = len(deliveries)
    qtbot.waitUntil(lambda: len(deliveries) >= seen + 5, timeout=PATIENCE_MS)
    assert controller.process_pid == pid and controller.running
    assert {d.run_id for d in deliveries} == {run_id}


def test_ctrl_c_while_the_simulation_process_starts_up_is_ignored_too(qtbot, small_config):
    """The process is started with the terminal's signals blocked, so that one arriving while its
    interpreter still imports NumPy cannot end it with a traceback."""
    controller = SimulationController()
    deliveries = _collect(controller)
    try:
        controller.start(small_config)
        pid = controller.process_pid
        assert pid is not None
        os.kill(pid, signal.SIGINT)  # long before its imports are done
        qtbot.waitUntil(lambda: len(deliveries) >= 3, timeout=60_000)
        assert controller.process_pid == pid
    finally:
        assert controller.quit(timeout_s=PATIENCE_S)
