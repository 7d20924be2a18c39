"""Fixtures of the robustness tests: recorded errors fail the test, no dialog can block it."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SMALL, ErrorRecorder, ModalGuard
from windows import open_window


@pytest.fixture
def errors() -> Iterator[ErrorRecorder]:
    """Uncaught exceptions, Qt warnings and ERROR log records of the test, checked at the end.

    Installed inside the test's setup, so it takes over from pytest-qt's own exception capture
    for the test's duration (and gives messages with the test's own context).
    """
    recorder = ErrorRecorder()
    recorder.install()
    try:
        yield recorder
    finally:
        recorder.uninstall()
    recorder.check("during the test")


@pytest.fixture
def modal_guard(qtbot, monkeypatch, tmp_path: Path) -> Iterator[ModalGuard]:  # type: ignore[no-untyped-def]
    """Static dialogs answer at once (cancel, or a file under tmp_path); other modals are closed."""
    from gradlab.core.scenario import Scenario

    good = tmp_path / "scene.json"
    good.write_text(Scenario("A scene", "From the robustness tests.", SMALL).to_json(), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"title": "x", "config": {"hidden_size": -3', encoding="utf-8")
    binary = tmp_path / "noise.json"
    binary.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(512)))
    chooser = random.Random(1)
    guard = ModalGuard(tmp_path, [good, broken, binary], chooser.choice)
    guard.patch(monkeypatch)
    yield guard
    guard.stop()


@pytest.fixture
def small_window(qtbot, errors):  # type: ignore[no-untyped-def]
    """The real main window on a small config, shown offscreen and started; closed at the end."""
    window = open_window(qtbot, SMALL)
    yield window
    window.close()
