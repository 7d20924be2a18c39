"""Shared test setup: headless Qt, a private settings store per test, and no test may leave a
worker thread running."""

from __future__ import annotations

import os

# Before anything imports Qt: tests run headless, with no display and no manual environment.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import faulthandler
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from _pytest.faulthandler import fault_handler_stderr_fd_key
from patience import PATIENCE_S
from windows import open_window

THREAD_GRACE_S = PATIENCE_S  # a superseded run may still be finishing its last update, on a busy machine
SLOW_TEST_TRACEBACK_S = 1800.0  # a slow suite runs for minutes; it is stuck after half an hour


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Give slow-marked tests half an hour before faulthandler dumps their threads' stacks:
    ``faulthandler_timeout`` (pyproject) is meant for the normal tests, which take seconds, and
    its dump in the middle of a healthy ten-minute soak reads like a failure. (The plugin
    cancels the dump when the test ends.)"""
    if item.get_closest_marker("slow") and float(item.config.getini("faulthandler_timeout") or 0):
        faulthandler.dump_traceback_later(SLOW_TEST_TRACEBACK_S, file=item.config.stash[fault_handler_stderr_fd_key])
    return (yield)


def _worker_threads() -> list[threading.Thread]:
    worker = sys.modules.get("gradlab.ui.simulation")
    return worker.live_processes() if worker is not None else []


@pytest.fixture(autouse=True)
def no_thread_left_running() -> Iterator[None]:
    """Fail any test that leaves a worker thread (or any other new thread) alive."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE_S
    while True:
        leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()] + [
            t for t in _worker_threads() if t not in before
        ]
        leftover = list(dict.fromkeys(leftover))
        if not leftover or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if leftover:
        pytest.fail(f"test left threads running: {[t.name for t in leftover]}")


@pytest.fixture(autouse=True)
def private_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Point QSettings at an empty folder of this test's own: tests never read or write the
    user's real settings, and each starts from the defaults. Yields the folder."""
    if "PySide6.QtCore" not in sys.modules and "gradlab.ui" not in sys.modules:
        # A test that never touches Qt needs no settings store (and must not import Qt).
        yield None
        return
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture
def small_config():  # type: ignore[no-untyped-def]
    """A Config small enough to run hundreds of updates per second."""
    from gradlab.core import Config

    return Config(hidden_size=8, seq_len=20, batch_size=4)


@pytest.fixture
def window(qtbot, small_config):  # type: ignore[no-untyped-def]
    """The real main window, shown offscreen, running ``small_config``."""
    main_window = open_window(qtbot, small_config)
    yield main_window
    main_window.close()
