"""The simulation process's loop (``SimulationLoop``) in this process, the window played by a thread."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from multiprocessing import Pipe
from types import SimpleNamespace
from typing import Any

from patience import PATIENCE_MS

from gradlab.core import Config, Frame, run
from gradlab.ui import protocol as msg
from gradlab.ui.simulation_process import INTERRUPT_SIGNAL, SimulationLoop

PATIENCE_S = PATIENCE_MS / 1000
GATE = threading.Semaphore(0)  # one release per update the run may finish
AT_GATE = threading.Event()  # set while an update waits at the gate


def gated_run(config: Config, **kwargs: Any) -> Iterator[Frame]:
    """``run(config)``, each update finishing only when the test releases it."""
    for frame in run(config, **kwargs):
        AT_GATE.set()
        GATE.acquire()
        AT_GATE.clear()
        yield frame


def _next_updates(conn: Any) -> msg.Updates:
    while conn.poll(PATIENCE_S):
        report = conn.recv()
        if isinstance(report, msg.Updates):
            return report
    raise AssertionError("no Updates within the patience")


def test_an_update_goes_out_as_soon_as_the_window_took_the_previous():
    """A slow run (each update longer than the window's poll) must show every update, each as it
    is done: the window's Took arrives while the next update is computed, and that update is sent
    once it is done, not held back until the one after it."""
    window, process = Pipe()
    config = Config(hidden_size=4, seq_len=5, batch_size=2, iterations=None)
    saved = signal.getsignal(INTERRUPT_SIGNAL) if INTERRUPT_SIGNAL is not None else None
    seen: list[list[int]] = []

    def play_the_window() -> None:
        try:
            window.send(msg.Wanted(1, config, run_path=f"{__name__}:gated_run"))
            GATE.release()
            for _ in range(3):
                seen.append(list(_next_updates(window).updates.iteration))
                assert AT_GATE.wait(PATIENCE_S)  # the next update is under way
                window.send(msg.Took())  # ... and the window takes these meanwhile
                GATE.release()
        finally:
            window.send(msg.Quit())
            GATE.release(10)

    try:
        thread = threading.Thread(target=play_the_window)
        thread.start()
        SimulationLoop(process, SimpleNamespace(value=1)).serve()
        thread.join(PATIENCE_S)
    finally:
        if INTERRUPT_SIGNAL is not None:
            signal.signal(INTERRUPT_SIGNAL, saved)
    assert seen == [[1], [2], [3]]
