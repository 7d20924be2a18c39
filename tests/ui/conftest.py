"""Helpers of the window tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from patience import PATIENCE_MS


@pytest.fixture
def wait_frames(qtbot) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """``wait_frames(window, count=1)``: wait until ``count`` more frames of the current run were drawn."""

    def wait(window, count: int = 1, timeout: int = PATIENCE_MS) -> None:  # type: ignore[no-untyped-def]
        run_id = window.controller.run_id
        target = window.frames_displayed + count
        qtbot.waitUntil(
            lambda: window.frames_displayed >= target and window.controller.run_id == run_id, timeout=timeout
        )

    return wait


@pytest.fixture
def focused(qtbot) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """``focused(window)``: make the window active so that its shortcuts receive keys."""

    def focus(window) -> None:  # type: ignore[no-untyped-def]
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=PATIENCE_MS)

    return focus
